import Foundation
import PaperPostCore
import PaperPostStore

/// How to curate a day.
public struct CurationOptions: Sendable {
    /// The arXiv mailing day; `nil` takes the latest announcement recorded.
    public var day: Day?
    /// At most this many papers are scored; above it, the heuristic pre-ranks.
    public var scan: Int
    public var mustRead: Int
    public var more: Int
    /// Ask the model again even where answers are cached (and pay for it).
    public var force: Bool

    public init(day: Day? = nil, scan: Int = 50, mustRead: Int = 2, more: Int = 7, force: Bool = false) {
        self.day = day
        self.scan = scan
        self.mustRead = mustRead
        self.more = more
        self.force = force
    }
}

/// Turns a day's papers into a stored digest: scan, score, pick, summarise.
///
/// Deep summaries are written for the global must-read papers and for the top `mustRead`
/// papers of every category in use, so that every subscriber's own must-read papers have one;
/// in every language an active subscriber reads, so cost grows with languages, never with
/// subscribers.
public struct Curation: Sendable {
    let settings: Settings
    let database: PaperPostDatabase

    public init(settings: Settings, database: PaperPostDatabase) {
        self.settings = settings
        self.database = database
    }

    public func run(_ options: CurationOptions) async throws -> Digest {
        let papers = PaperStore(database: database)
        let subscribers = SubscriberStore(database: database, settings: settings)
        let store = CurationStore(database: database)

        let latest = try await papers.announcements(limit: 1).first?.day
        guard let day = options.day ?? latest, try await papers.announcement(on: day) != nil else {
            throw CurationError.nothingFetched(options.day)
        }
        let active = try await subscribers.list(status: .active)
        let categories = settings.defaultCategories
            + Set(active.flatMap(\.categories)).subtracting(settings.defaultCategories).sorted()
        let languages = Language.allCases.filter { language in active.contains { $0.language == language } }
        let inUse = languages.isEmpty ? [settings.defaultLanguage] : languages

        let heuristic = HeuristicCurator()
        var candidates = try await papers.papers(announcedOn: day)
            .filter { [.new, .cross].contains($0.announceType) && !Set($0.paper.categories).isDisjoint(with: categories) }
            .map(\.paper)
        let candidateCount = candidates.count
        if candidates.count > options.scan {
            candidates = Array(candidates.sorted { (heuristic.score($0), $1.id) > (heuristic.score($1), $0.id) }.prefix(options.scan))
        }

        let curator: any Curator
        var notes: [String] = []
        if let key = settings.llm.apiKey {
            curator = LLMCurator(
                client: ChatCompletionClient(
                    settings: settings.llm, apiKey: key, userAgent: "PaperPost (+\(settings.baseURL))", maxResponseBytes: settings.httpMaxBytes),
                prompts: try Prompts(directory: settings.templatesDirectory), store: store,
                spending: Spending(day: day, settings: settings.llm, store: store), settings: settings.llm, force: options.force)
        } else {
            curator = heuristic
            notes.append("heuristic curation: no PAPERPOST_LLM_API_KEY is set")
        }
        if candidateCount > candidates.count {
            notes.append("\(candidateCount) papers in the categories in use; the \(candidates.count) best by the heuristic were scanned")
        }

        let scores = try await curator.score(candidates, languages: inUse)
        var entries = Digest.ranked(candidates.compactMap { paper in
            scores[paper.id].map { DigestEntry(paper: paper, score: $0.score, scoredBy: $0.source, reasons: $0.reasons) }
        })

        var summarised = Set(entries.prefix(options.mustRead).map(\.paper.id))
        for category in categories {
            summarised.formUnion(entries.filter { $0.paper.categories.contains(category) }.prefix(options.mustRead).map(\.paper.id))
        }
        let requests = entries.filter { summarised.contains($0.paper.id) }
            .flatMap { entry in inUse.map { SummaryRequest(paper: entry.paper, language: $0) } }
        let summaries = try await curator.summarize(requests)
        for index in entries.indices {
            for language in inUse {
                entries[index].summaries[language] = summaries[SummaryRequest(paper: entries[index].paper, language: language)]
            }
        }

        notes += await curator.notes()
        let sources = entries.map(\.scoredBy) + entries.flatMap { $0.summaries.values.map(\.source) }
        let mode: Digest.Mode =
            if settings.llm.apiKey == nil || sources.allSatisfy({ $0 == .heuristic }) && !sources.isEmpty { .heuristic }
            else if sources.allSatisfy({ $0 == .llm }) { .llm }
            else { .mixed }
        let digest = Digest(
            day: day, mode: mode, model: settings.llm.apiKey == nil ? nil : settings.llm.model, entries: entries,
            candidates: candidateCount, mustRead: options.mustRead, more: options.more, languages: inUse,
            categories: categories, usage: TokenUsage(currency: settings.llm.currency), notes: notes, createdAt: Date())
        try await store.save(digest)
        return try await store.digest(on: day) ?? digest
    }
}
