import ArgumentParser
import PaperPostCore

struct Categories: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the arXiv categories subscribers can choose.")

    @Option(help: "Only codes starting with this prefix, e.g. cs.")
    var prefix: String?

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    func run() async throws {
        var listing = Listing(columns: ["code", "english_name", "chinese_name"])
        for category in ArxivCategory.all where prefix.map(category.code.hasPrefix) ?? true {
            listing.append([.text(category.code), .text(category.englishName), .text(category.chineseName)])
        }
        Terminal.write(listing.rendered(as: format))
    }
}
