import ArgumentParser
import PaperPostCore
import PaperPostStore

struct AddSubscriber: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a subscriber (active by default: you vouch for their consent).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The email address.")
    var email: String

    @Option(help: "Their name, used in the greeting.")
    var name: String?

    @Option(help: "arXiv categories, e.g. cs.AI,cs.LG (default: PAPERPOST_DEFAULT_CATEGORIES or cs.AI,cs.CL,cs.LG).")
    var categories: String?

    @Option(help: "zh or en (default: PAPERPOST_DEFAULT_LANGUAGE or zh).")
    var language: Language?

    @Option(help: "active or pending.")
    var status: SubscriberStatus = .active

    @OptionGroup var taste: TasteOptions

    func run() async throws {
        guard status == .active || status == .pending else {
            throw ValidationError("--status for a new subscriber is active or pending, not \(status.rawValue)")
        }
        let subscriber = try await global.withSubscribers { store, settings in
            try await store.add(
                NewSubscriber(
                    email: try settings.address(email),
                    name: try name.flatMap(Subscriber.validName),
                    categories: try categories.map { try categoryList([$0]) } ?? settings.defaultCategories,
                    language: language ?? settings.defaultLanguage,
                    status: status,
                    interests: try ReaderInterests.none.applying(taste.interestChanges()),
                    schedule: try taste.parsedSchedule() ?? .daily),
                source: .cli)
        }
        print("added \(subscriber.email ?? email) (\(subscriber.status.rawValue); \(subscriber.categories.joined(separator: ", ")); \(subscriber.language.rawValue))")
    }
}
