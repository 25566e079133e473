import ArgumentParser
import PaperPostCore
import PaperPostStore

struct RemoveSubscriber: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Unsubscribe someone, keeping the record so no import re-adds them.",
        discussion: """
            --forget also erases their address, name, categories and the details of their history,
            keeping only a SHA-256 of the address and the unsubscribed status: enough to recognise
            and refuse the address if it is imported again.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The email address.")
    var email: String

    @Flag(help: "Erase what identifies the person (see above).")
    var forget = false

    @Flag(help: "Say what would happen, change nothing.")
    var dryRun = false

    func run() async throws {
        try await global.withSubscribers { store, settings in try await remove(store, address: try settings.address(email)) }
    }

    private func remove(_ store: any SubscriberRegistry, address: EmailAddress) async throws {
        let subscriber = try await store.get(address)
        let shown = subscriber.email ?? address.value
        if dryRun {
            print("would \(forget ? "forget" : "unsubscribe") \(shown) (now \(subscriber.status.rawValue))")
            return
        }
        if forget {
            try await store.forget(address, source: .cli)
            print("forgot \(shown): only a hash of the address and its \(subscriber.status == .bounced ? "bounced" : "unsubscribed") status are kept")
        } else if try await store.unsubscribe(address, source: .cli) {
            print("unsubscribed \(shown)")
        } else {
            print("\(shown) was already unsubscribed")
        }
    }
}
