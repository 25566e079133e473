import ArgumentParser
import PaperPostCore
import PaperPostStore

struct Papers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Papers PaperPost has stored.", subcommands: [ListPapers.self], defaultSubcommand: ListPapers.self)
}

struct ListPapers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List stored papers.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only papers announced on this arXiv mailing day (YYYY-MM-DD).")
    var date: Day?

    @Option(help: "Only papers in this category.")
    var category: String?

    @Option(help: "table, csv or json (csv and json have every field).")
    var format: OutputFormat = .table

    func run() async throws {
        let category = try category.map(ArxivCategory.validCode)
        let papers = try await global.withStores(try await global.settings(), connections: 1) { stores in
            try await stores.papers.papers(announcedOn: date, category: category)
        }
        var listing: Listing
        if format == .table {
            listing = Listing(columns: ["id", "primary", "type", "enriched", "title"])
            for entry in papers {
                let paper = entry.paper
                listing.append([
                    .text("\(paper.id)v\(paper.version)"), .text(paper.primaryCategory), .text(entry.announceType.rawValue),
                    .text(paper.enriched ? "yes" : "no"), .text(paper.title.truncated(toWidth: 70)),
                ])
            }
        } else {
            listing = Listing(columns: [
                "id", "version", "title", "authors", "primary_category", "categories", "announce_type", "enriched",
                "published", "updated", "comment", "journal_ref", "doi", "abs_url", "pdf_url", "abstract",
            ])
            for entry in papers {
                let paper = entry.paper
                listing.append([
                    .text(paper.id), .number(paper.version), .text(paper.title), .list(paper.authors), .text(paper.primaryCategory),
                    .list(paper.categories), .text(entry.announceType.rawValue), .flag(paper.enriched),
                    .text(paper.published?.timestamp), .text(paper.updated?.timestamp), .text(paper.comment),
                    .text(paper.journalRef), .text(paper.doi), .text(paper.absURL), .text(paper.pdfURL), .text(paper.abstract),
                ])
            }
        }
        Terminal.write(listing.rendered(as: format))
    }
}

extension String {
    /// Cut to at most `width` terminal columns, with `…` when cut.
    func truncated(toWidth width: Int) -> String {
        guard displayWidth > width else { return self }
        var result = ""
        for character in self {
            if (result + String(character)).displayWidth > width - 1 { break }
            result.append(character)
        }
        return result + "…"
    }
}
