import ArgumentParser
import PaperPostCore

struct ListSubscribers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List subscribers.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only subscribers with this status.")
    var status: SubscriberStatus?

    @Option(help: "Only subscribers of this arXiv category.")
    var category: String?

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let category = try category.map(ArxivCategory.validCode)
        var writer = ListingWriter(columns: Listing.subscriberColumns, format: format) { Terminal.write($0) }
        try await global.withStores(try await global.settings(), connections: 1) { stores in
            try await stores.subscribers.forEachSubscriberPage(status: status, category: category) { page in
                for row in Listing(subscribers: page).rows { writer.append(row) }
            }
        }
        writer.finish()
    }
}
