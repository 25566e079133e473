import Foundation
import PaperPostCore
import PaperPostStore
import Ranking

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

/// An edition that will be sent: a reader's categories and language.
struct Edition: Hashable {
    var categories: [String]
    var language: Language
}

/// Turns a day's papers into a stored digest: scan, score, pick, summarise.
///
/// Deep summaries are written only for papers that are a must-read in an edition that will be
/// sent (an active subscriber's categories and language, or a reader's own order from their
/// interests and votes), so no tokens go to summaries nobody reads. They are asked for in order
/// of how many readers will see them, so a spending cap cuts the least-read first; cost grows
/// with the number of distinct papers summarised (at most the day's scanned papers), never
/// with the number of readers.
public struct Curation: Sendable {
    let settings: Settings
    let papers: any PaperArchive
    let ledger: any CurationLedger
    let subscribers: any SubscriberList

    public init(settings: Settings, papers: any PaperArchive, ledger: any CurationLedger, subscribers: any SubscriberList) {
        self.settings = settings
        self.papers = papers
        self.ledger = ledger
        self.subscribers = subscribers
    }

    /// A curation on the SQLite store.
    public init(settings: Settings, database: PaperPostDatabase) {
        self.init(
            settings: settings, papers: PaperStore(database: database), ledger: CurationStore(database: database),
            subscribers: SubscriberStore(database: database, settings: settings))
    }

    public func run(_ options: CurationOptions) async throws -> Digest {
        let latest = try await papers.latestDay()
        guard let day = options.day ?? latest, try await papers.announcement(on: day) != nil else {
            throw CurationError.nothingFetched(options.day)
        }
        let ledgerBefore = try await ledger.calls(on: day).count
        let usageBefore = try await ledger.usage(on: day, currency: settings.llm.currency)
        let previous = try await ledger.digest(on: day)
        // Questions about the whole list are answered in SQL; readers are never all loaded.
        let categories = settings.defaultCategories
            + Set(try await subscribers.activeCategories()).subtracting(settings.defaultCategories).sorted()
        let languages = try await subscribers.activeLanguages()
        let inUse = languages.isEmpty ? [settings.defaultLanguage] : languages

        let heuristic = HeuristicCurator()
        var candidates = try await papers.papers(announcedOn: day, category: nil)
            .filter { [.new, .cross].contains($0.announceType) && !Set($0.paper.categories).isDisjoint(with: categories) }
            .map(\.paper)
        let candidateCount = candidates.count
        if candidates.count > options.scan {
            candidates = Array(candidates.sorted { (heuristic.score($0), $1.id) > (heuristic.score($1), $0.id) }.prefix(options.scan))
        }

        let curator: any Curator
        var notes: [String] = []
        var planned: LLMCurator?
        if let key = settings.llm.apiKey {
            let llm = LLMCurator(
                client: ChatCompletionClient(
                    settings: settings.llm, apiKey: key, userAgent: "PaperPost (+\(settings.baseURL))", maxResponseBytes: settings.httpMaxBytes),
                prompts: try Prompts(directory: settings.templatesDirectory), store: ledger,
                spending: try await Spending(day: day, settings: settings.llm, store: ledger), settings: settings.llm, force: options.force)
            curator = llm
            planned = llm
        } else {
            curator = heuristic
            notes.append("heuristic curation: no PAPERPOST_LLM_API_KEY is set")
        }
        if candidateCount > candidates.count {
            notes.append("\(candidateCount) papers in the categories in use; the \(candidates.count) best by the heuristic were scanned")
        }

        // Deep summaries only where a reader will see them: the must-read papers of every
        // edition that will be sent, one (categories, language) pair per kind of active reader.
        let personalCount = try await subscribers.count(RecipientFilter(personal: true))
        var editions: [Edition: Int] = [:]
        for demand in try await subscribers.editionDemand() {
            editions[Edition(categories: demand.categories.isEmpty ? settings.defaultCategories : demand.categories, language: demand.language), default: 0] += demand.readers
        }
        if editions.isEmpty && personalCount == 0 {
            editions[Edition(categories: categories, language: settings.defaultLanguage)] = 1
        }
        // The must-read summaries are what readers see most: their worst case is held back
        // from the cap before scoring may spend it.
        await planned?.planSummaries(
            count: min(candidates.count * inUse.count, options.mustRead * (editions.count + personalCount)), sample: candidates.first, languages: inUse)
        let scores = try await curator.score(candidates, languages: inUse)
        if settings.llm.fallback == .none, let stop = await curator.failure() {
            throw CurationFailed(day: day, stop: stop)
        }
        // One scale: the model's scores decide, and a paper the model could not score ranks
        // after every paper it did (the heuristic's scores only order those among themselves).
        var entries = candidates.compactMap { paper in
            scores[paper.id].map { DigestEntry(paper: paper, score: $0.score, scoredBy: $0.source, reasons: $0.reasons) }
        }.sorted { ($0.scoredBy == .llm ? 1 : 0, $0.score, $1.paper.id) > ($1.scoredBy == .llm ? 1 : 0, $1.score, $0.paper.id) }

        let probe = Digest(
            day: day, mode: .llm, model: nil, entries: entries, candidates: candidateCount, mustRead: options.mustRead, more: options.more,
            languages: inUse, categories: categories, usage: TokenUsage(), notes: [], createdAt: Date())
        // How many readers would see each summary as a must-read.
        var readers: [SummaryRequest: Int] = [:]
        for (edition, count) in editions {
            for entry in probe.edition(for: edition.categories).mustRead {
                readers[SummaryRequest(paper: entry.paper, language: edition.language), default: 0] += count
            }
        }
        if personalCount > 0 {
            // Readers with their own order are ranked a page at a time.
            let ranker = PersonalRanker(probe)
            let papersByID = Dictionary(entries.map { ($0.paper.id, $0.paper) }, uniquingKeysWith: { first, _ in first })
            try await subscribers.forEachRecipientPage(RecipientFilter(personal: true)) { page in
                for reader in page {
                    let order = ranker.order(categories: reader.categories, interests: reader.interests, taste: reader.taste)
                    for pick in order.prefix(options.mustRead) {
                        if let paper = papersByID[pick.id] { readers[SummaryRequest(paper: paper, language: reader.language), default: 0] += 1 }
                    }
                }
            }
        }
        let position = Dictionary(entries.enumerated().map { ($1.paper.id, $0) }, uniquingKeysWith: { first, _ in first })
        let requests = readers.keys.sorted {
            (readers[$0]!, -(position[$0.paper.id] ?? 0), $1.language.rawValue) > (readers[$1]!, -(position[$1.paper.id] ?? 0), $0.language.rawValue)
        }
        let summaries = try await curator.summarize(requests)
        let failure = await curator.failure()
        if settings.llm.fallback == .none, let failure {
            throw CurationFailed(day: day, stop: failure)
        }
        for index in entries.indices {
            for language in inUse {
                entries[index].summaries[language] = summaries[SummaryRequest(paper: entries[index].paper, language: language)]
            }
        }

        if let failure {
            notes.insert(
                "the model failed (\(failure.description)); the rest of this digest is the heuristic's, as PAPERPOST_LLM_FALLBACK=heuristic asks",
                at: 0)
        }
        notes += await curator.notes()
        let sources = entries.map(\.scoredBy) + entries.flatMap { $0.summaries.values.map(\.source) }
        let mode: Digest.Mode =
            if settings.llm.apiKey == nil || sources.allSatisfy({ $0 == .heuristic }) && !sources.isEmpty { .heuristic }
            else if sources.allSatisfy({ $0 == .llm }) { .llm }
            else { .mixed }
        // The digest's own figures: this run's calls, or, when it only reused cached answers,
        // those of the digest it replaces.
        let usageAfter = try await ledger.usage(on: day, currency: settings.llm.currency)
        var usage = TokenUsage(
            promptTokens: usageAfter.promptTokens - usageBefore.promptTokens,
            completionTokens: usageAfter.completionTokens - usageBefore.completionTokens,
            cost: usageAfter.cost.map { $0 - (usageBefore.cost ?? 0) }, currency: settings.llm.currency)
        if try await ledger.calls(on: day).count == ledgerBefore, let previous {
            usage = previous.usage
        }
        if usage.cost == nil, settings.llm.pricePerMillionInput != nil {
            usage.cost = 0
        }
        let digest = Digest(
            day: day, mode: mode, model: settings.llm.apiKey == nil ? nil : settings.llm.model, entries: entries,
            candidates: candidateCount, mustRead: options.mustRead, more: options.more, languages: inUse,
            categories: categories, usage: usage, notes: notes, createdAt: Date(),
            modelFailure: failure?.description)
        try await ledger.save(digest)
        return try await ledger.digest(on: day) ?? digest
    }
}
