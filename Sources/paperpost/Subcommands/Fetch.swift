import ArgumentParser
import ArxivSource
import PaperPostCore
import PaperPostStore

struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch the day's arXiv announcement and store its papers.",
        discussion: """
            Reads arXiv's announcement feed for the categories, keeps new papers and cross-lists
            (replacements are dropped), adds details from the arXiv API, and records the
            announcement under its arXiv mailing day. A day already recorded is not fetched again;
            an empty announcement is recorded as an empty day; an unreachable arXiv is an error
            (exit 2) and records nothing.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The day the job runs for (YYYY-MM-DD, US Eastern; default: the feed's own day).")
    var date: Day?

    @Option(help: "Categories, e.g. cs.AI,cs.CL (default: the active subscribers' and the default categories).")
    var categories: String?

    @Option(help: "At most this many papers.")
    var max: Int?

    @Flag(inversion: .prefixedNo, help: "Include papers cross-listed into the categories (PAPERPOST_ARXIV_CROSS_LISTS).")
    var crossLists: Bool?

    @Option(help: "Ingest a saved announcement feed instead of asking arXiv.")
    var feed: String?

    @Option(help: "Saved arXiv API responses with the papers' details (with --feed; repeatable).")
    var details: [String] = []

    func validate() throws {
        if !details.isEmpty && feed == nil {
            throw ValidationError("--details goes with --feed")
        }
        if let max, max < 1 {
            throw ValidationError("--max must be at least 1")
        }
    }

    func run() async throws {
        let settings = try await global.settings()
        try await global.withStores(settings) { stores in try await fetch(settings: settings, stores: stores) }
    }

    private func fetch(settings: Settings, stores: Stores) async throws {
        let codes: [String]
        if let categories {
            codes = try categoryList([categories])
        } else {
            let inUse = try await stores.subscribers.activeCategories()
            codes = settings.defaultCategories + inUse.filter { !settings.defaultCategories.contains($0) }
        }
        let source: AnnouncementSource =
            if let feed { .files(feed: feed, details: details) } else { .arxiv(ArxivClient(settings: settings, version: PaperPostVersion.current)) }
        let request = FetchRequest(day: date, categories: codes, includeCrossLists: crossLists ?? settings.arxivCrossLists, maxPapers: max)

        let progress = ProgressLine()
        let report = try await AnnouncementFetch(papers: stores.papers).run(request, from: source) { step in
            switch step {
            case .feed(let source): progress.show("reading the announcement feed from \(source)…")
            case .details(let done, let total): progress.show("details from the arXiv API: batch \(done)/\(total)…")
            }
        }
        progress.clear()
        print(report.summary)
    }
}

extension FetchReport {
    /// What `fetch` prints: the day, then new / updated / skipped per category.
    var summary: String {
        let categoryList = categories.joined(separator: ", ")
        if alreadyRecorded {
            return "the announcement of \(day) (\(categoryList)) was already fetched; nothing to do"
        }
        if isEmptyDay {
            return "arXiv announced nothing for \(categoryList) on \(day); recorded as an empty day"
        }
        var listing = Listing(columns: ["category", "new", "updated", "skipped"])
        for code in categories {
            let counts = tally.byCategory[code] ?? .init()
            listing.append([.text(code), .number(counts.new), .number(counts.updated), .number(counts.skipped)])
        }
        var lines = [
            "announcement of \(day): \(tally.total.new) new, \(tally.total.updated) updated, \(tally.total.skipped) skipped",
            listing.rendered(as: .table).trimmingSuffixNewline(),
        ]
        if droppedReplacements > 0 || droppedCrossLists > 0 {
            lines.append("dropped \(droppedReplacements) replacements and \(droppedCrossLists) cross-lists")
        }
        if !notEnriched.isEmpty {
            lines.append("\(notEnriched.count) papers kept with the feed's data only (no details from the arXiv API)")
        }
        lines += enrichmentProblems.map { "warning: \($0)" }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func trimmingSuffixNewline() -> String {
        hasSuffix("\n") ? String(dropLast()) : self
    }
}
