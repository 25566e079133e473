import ArgumentParser
import PaperPostCore
import PaperPostStore

struct UpdateSubscriber: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change a subscriber.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The email address.")
    var email: String

    @Option(help: "A new name (\"\" clears it).")
    var name: String?

    @Option(help: "Replace the categories, e.g. cs.AI,cs.LG.")
    var categories: String?

    @Option(name: .customLong("add-category"), help: "Add a category (repeatable).")
    var addCategories: [String] = []

    @Option(name: .customLong("remove-category"), help: "Remove a category (repeatable).")
    var removeCategories: [String] = []

    @Option(help: "zh or en.")
    var language: Language?

    @Option(help: "pending, active, paused, unsubscribed or bounced.")
    var status: SubscriberStatus?

    @OptionGroup var taste: TasteOptions

    func run() async throws {
        let change = SubscriberChange(
            name: try name.map { try Subscriber.validName($0) ?? "" },
            categories: try categories.map { try categoryList([$0]) },
            addCategories: try categoryList(addCategories),
            removeCategories: try categoryList(removeCategories),
            language: language,
            status: status,
            interests: try taste.interestChanges(),
            schedule: try taste.parsedSchedule())
        guard change != SubscriberChange() else {
            throw ValidationError(
                "nothing to change: give --name, --categories, --add-category, --remove-category, --language, --status, --schedule, --interests, --muted or --authors")
        }
        let subscriber = try await global.withSubscribers { store, settings in
            try await store.update(try settings.address(email), change, source: .cli)
        }
        print("updated \(subscriber.email ?? email) (\(subscriber.status.rawValue); \(subscriber.categories.joined(separator: ", ")); \(subscriber.language.rawValue))")
    }
}
