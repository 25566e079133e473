import ArgumentParser
import PaperPostCore

struct SubscriberStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count subscribers by status, and active subscribers by category and language.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let stats = try await global.withStores(try await global.settings(), connections: 1) { try await $0.subscribers.stats() }
        var listing = Listing(columns: ["dimension", "value", "name", "subscribers"])
        for (status, count) in stats.byStatus {
            listing.append([.text("status"), .text(status.rawValue), .text(nil), .number(count)])
        }
        for (code, count) in stats.activeByCategory {
            let category = ArxivCategory.named(code)
            listing.append([.text("category"), .text(code), .text(category?.englishName), .number(count)])
        }
        for (language, count) in stats.activeByLanguage {
            listing.append([.text("language"), .text(language.rawValue), .text(nil), .number(count)])
        }
        Terminal.write(listing.rendered(as: format))
    }
}
