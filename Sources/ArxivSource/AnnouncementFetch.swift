import Foundation
import PaperPostCore
import PaperPostStore

/// Where a fetch reads the day's documents from.
public enum AnnouncementSource: Sendable {
    /// arXiv itself (or the configured mirror).
    case arxiv(ArxivClient)
    /// Saved documents: a feed, and optionally API responses with the details (offline use, demos, tests).
    case files(feed: String, details: [String])
}

/// What to fetch.
public struct FetchRequest: Sendable {
    /// The day the job runs for; `nil` takes whatever the feed announces.
    public var day: Day?
    /// The categories to ask arXiv for. A saved feed covers the categories its id names, and
    /// those are recorded instead when it names any.
    public var categories: [String]
    public var includeCrossLists: Bool
    /// At most this many papers (the first ones of the feed).
    public var maxPapers: Int?

    public init(day: Day?, categories: [String], includeCrossLists: Bool, maxPapers: Int? = nil) {
        self.day = day
        self.categories = categories
        self.includeCrossLists = includeCrossLists
        self.maxPapers = maxPapers
    }
}

/// What a fetch did.
public struct FetchReport: Sendable {
    /// The arXiv mailing day the feed describes, under which its papers are recorded.
    public var day: Day
    public var categories: [String]
    public var tally = AnnouncementTally()
    /// The day was recorded before and this fetch asked for nothing new, so nothing was fetched
    /// beyond the feed (this is how a weekend rerun finds Friday's papers already done).
    public var alreadyRecorded = false
    public var droppedReplacements = 0
    public var droppedCrossLists = 0
    /// Papers kept with the feed's data only, because the API did not give their details.
    public var notEnriched: [String] = []
    /// Why details were missing, one line per failed API call.
    public var enrichmentProblems: [String] = []
    /// Days arXiv's feed says it does not announce on.
    public var skipDays: [String] = []

    public var isEmptyDay: Bool { !alreadyRecorded && tally.total == .init() }
}

/// Progress of a fetch, for a progress line on a terminal.
public enum FetchProgress: Sendable {
    case feed(source: String)
    case details(done: Int, of: Int)
}

/// Fetches a day's announcement, enriches it from the API, and records it.
public struct AnnouncementFetch: Sendable {
    let papers: any PaperArchive

    public init(papers: any PaperArchive) {
        self.papers = papers
    }

    /// Runs a fetch. Either the day is recorded completely (papers and announcement in one
    /// transaction) or nothing is: an unreachable arXiv is an error, never an empty day.
    public func run(
        _ request: FetchRequest, from source: AnnouncementSource,
        progress: @Sendable (FetchProgress) -> Void = { _ in }
    ) async throws -> FetchReport {
        let feed: AnnouncementFeed
        let feedSource: String
        switch source {
        case .arxiv(let client):
            progress(.feed(source: "arXiv"))
            feedSource = client.feedURL(categories: request.categories)
            feed = try await client.announcementFeed(categories: request.categories)
        case .files(let path, _):
            progress(.feed(source: path))
            feedSource = path
            feed = try Self.parseFile(path, AnnouncementFeed.parse)
        }

        let day: Day
        do {
            day = try feed.announcementDay()
        } catch {
            throw FetchError.badDocument(source: feedSource, error)
        }
        if case .arxiv = source, let requested = request.day, day > requested {
            throw FetchError.dayNotInFeed(requested: requested, feedDay: day)
        }
        var request = request
        if case .files = source, !feed.categories.isEmpty {
            request.categories = feed.categories
        }
        var report = FetchReport(day: day, categories: request.categories)
        report.skipDays = feed.skipDays

        if let known = try await papers.announcement(on: day), Set(request.categories).isSubset(of: known.categories) {
            report.alreadyRecorded = true
            return report
        }

        var kept: [AnnouncedPaper] = []
        for entry in feed.entries {
            switch entry.announceType {
            case .replace, .replaceCross: report.droppedReplacements += 1
            case .cross where !request.includeCrossLists: report.droppedCrossLists += 1
            case .new, .cross: kept.append(entry)
            }
        }
        if let maxPapers = request.maxPapers {
            kept = Array(kept.prefix(maxPapers))
        }

        let details = try await self.details(of: kept.map(\.paper.id), from: source, into: &report, progress: progress)
        let merged = kept.map { entry in
            guard var detailed = details[entry.paper.id] else { return entry }
            // The API's primary category leads; the feed's categories stay, so that a paper is
            // never lost from the category it was announced in.
            detailed.categories += entry.paper.categories.filter { !detailed.categories.contains($0) }
            return AnnouncedPaper(paper: detailed, announceType: entry.announceType)
        }
        report.notEnriched = merged.filter { !$0.paper.enriched }.map { $0.paper.id }

        let sourceName =
            switch source {
            case .arxiv: "arxiv"
            case .files(let feed, _): "file:" + URL(fileURLWithPath: feed).lastPathComponent
            }
        report.tally = try await papers.record(day: day, categories: request.categories, papers: merged, source: sourceName)
        return report
    }

    /// Details by id. A failed API call leaves its papers with the feed's data and is reported;
    /// it does not fail the day, since title, abstract, authors and categories are enough to go on.
    private func details(
        of ids: [String], from source: AnnouncementSource, into report: inout FetchReport,
        progress: @Sendable (FetchProgress) -> Void
    ) async throws -> [String: Paper] {
        var found: [String: Paper] = [:]
        switch source {
        case .arxiv(let client):
            let batches = stride(from: 0, to: ids.count, by: ArxivClient.batchSize).map {
                Array(ids[$0..<min($0 + ArxivClient.batchSize, ids.count)])
            }
            for (index, batch) in batches.enumerated() {
                progress(.details(done: index, of: batches.count))
                do {
                    for paper in try await client.details(ids: batch) {
                        found[paper.id] = paper
                    }
                } catch {
                    report.enrichmentProblems.append("\(error)")
                }
            }
            progress(.details(done: batches.count, of: batches.count))
        case .files(_, let paths):
            for path in paths {
                for paper in try Self.parseFile(path, { (data) throws(ArxivParseError) in try ArxivAPIResponse.parse(data).papers }) {
                    found[paper.id] = paper
                }
            }
        }
        return found.filter { ids.contains($0.key) }
    }

    private static func parseFile<T>(_ path: String, _ parse: (Data) throws(ArxivParseError) -> T) throws(FetchError) -> T {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableFile(path: path, reason: (error as NSError).localizedDescription)
        }
        do {
            return try parse(data)
        } catch {
            throw .badDocument(source: path, error)
        }
    }
}
