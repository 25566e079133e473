import Foundation

/// Who produced a score, a reason or a summary: the model, or the heuristic that stands in
/// when there is no key, the spending cap is reached, or the model's answer was unusable.
public enum CurationSource: String, Sendable, Hashable, Codable {
    case llm
    case heuristic
}

/// The structured summary of a must-read paper, in one language: the five fields of the
/// reference digest. Plain text, faithful to the abstract.
public struct Summary: Sendable, Hashable, Codable {
    /// The title in the summary's language (the original title in English).
    public var title: String
    public var background: String
    public var innovation: String
    public var details: String
    public var results: String
    public var source: CurationSource
    /// The fields that hold the paper's original English sentences because the model could not
    /// write them in the summary's language (the number check emptied them, the cap was reached),
    /// so that readers see them labelled as original text rather than passed off as a summary.
    /// A summary whose ``source`` is the heuristic is original text throughout.
    public var originalFields: Set<Field>

    /// One of the five parts of a summary.
    public enum Field: String, Sendable, Hashable, Codable, CaseIterable {
        case title, background, innovation, details, results
    }

    public init(
        title: String, background: String, innovation: String, details: String, results: String, source: CurationSource,
        originalFields: Set<Field> = []
    ) {
        self.title = title
        self.background = background
        self.innovation = innovation
        self.details = details
        self.results = results
        self.source = source
        self.originalFields = originalFields
    }

    /// Whether `field` is shown as original text: marked so, or made by the heuristic.
    public func isOriginal(_ field: Field) -> Bool {
        source == .heuristic || originalFields.contains(field)
    }

    private enum CodingKeys: String, CodingKey {
        case title, background, innovation, details, results, source, originalFields
    }

    /// Summaries stored before ``originalFields`` existed read as having none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decode(String.self, forKey: .title)
        background = try container.decode(String.self, forKey: .background)
        innovation = try container.decode(String.self, forKey: .innovation)
        details = try container.decode(String.self, forKey: .details)
        results = try container.decode(String.self, forKey: .results)
        source = try container.decode(CurationSource.self, forKey: .source)
        originalFields = try container.decodeIfPresent(Set<Field>.self, forKey: .originalFields) ?? []
    }

    /// Written only when some field is original, in the fields' order, so that the JSON of a
    /// summary is the same from run to run.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(title, forKey: .title)
        try container.encode(background, forKey: .background)
        try container.encode(innovation, forKey: .innovation)
        try container.encode(details, forKey: .details)
        try container.encode(results, forKey: .results)
        try container.encode(source, forKey: .source)
        if !originalFields.isEmpty {
            try container.encode(Field.allCases.filter(originalFields.contains), forKey: .originalFields)
        }
    }
}

/// One scanned paper in a digest, with what curation made of it.
public struct DigestEntry: Sendable, Hashable {
    public var paper: Paper
    /// 1 to 10; higher is better.
    public var score: Double
    public var scoredBy: CurationSource
    /// Why it is worth reading, one line per language in use.
    public var reasons: [Language: String]
    /// Deep summaries, for the papers that are must-read globally or in a category in use.
    public var summaries: [Language: Summary]

    public init(paper: Paper, score: Double, scoredBy: CurationSource, reasons: [Language: String], summaries: [Language: Summary] = [:]) {
        self.paper = paper
        self.score = score
        self.scoredBy = scoredBy
        self.reasons = reasons
        self.summaries = summaries
    }
}

/// Tokens and money spent on a digest.
public struct TokenUsage: Sendable, Hashable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// `nil` when prices are not configured.
    public var cost: Double?
    public var currency: String

    public init(promptTokens: Int = 0, completionTokens: Int = 0, cost: Double? = nil, currency: String = "CNY") {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cost = cost
        self.currency = currency
    }

    public var totalTokens: Int { promptTokens + completionTokens }
}

/// A curated day: every scanned paper ranked, the picks, and what it cost.
public struct Digest: Sendable {
    public enum Mode: String, Sendable, Codable {
        /// Every score and summary came from the model.
        case llm
        /// None did: no API key, or nothing could be had from the model.
        case heuristic
        /// Some fell back to the heuristic; ``notes`` says why.
        case mixed
    }

    public var day: Day
    public var mode: Mode
    public var model: String?
    /// Scanned papers, best first (score, then arXiv id).
    public var entries: [DigestEntry]
    /// Papers of the day in the categories in use, before the scan cap.
    public var candidates: Int
    public var mustRead: Int
    public var more: Int
    public var languages: [Language]
    /// The categories in use when it was curated (the active subscribers' and the defaults).
    public var categories: [String]
    public var usage: TokenUsage
    /// What an operator and a reader should know: fallbacks, the cap, dropped invented numbers.
    public var notes: [String]
    public var createdAt: Date
    /// Why the model was given up on, when this digest is the heuristic fallback the operator
    /// asked for (`PAPERPOST_LLM_FALLBACK=heuristic`); `nil` for a digest whose curation worked.
    /// Such a digest is sent, but the run that made it exits 3 (partial).
    public var modelFailure: String?
    /// The first day a weekly edition covers (it ends on ``day``); `nil` for a day's digest.
    public var weekStart: Day?

    public init(
        day: Day, mode: Mode, model: String?, entries: [DigestEntry], candidates: Int, mustRead: Int, more: Int,
        languages: [Language], categories: [String], usage: TokenUsage, notes: [String], createdAt: Date,
        modelFailure: String? = nil
    ) {
        self.day = day
        self.mode = mode
        self.model = model
        self.entries = entries
        self.candidates = candidates
        self.mustRead = mustRead
        self.more = more
        self.languages = languages
        self.categories = categories
        self.usage = usage
        self.notes = notes
        self.createdAt = createdAt
        self.modelFailure = modelFailure
    }

    public var scanned: Int { entries.count }

    /// The global picks: the must-read papers, then the further picks, best first.
    public var picks: [DigestEntry] { Array(entries.prefix(mustRead + more)) }

    /// The edition for a reader of `categories`: their best `mustRead` papers, then up to
    /// `more` further ones, ranked by score among the papers in their categories.
    public func edition(for categories: [String]) -> (mustRead: [DigestEntry], more: [DigestEntry]) {
        let theirs = entries.filter { !Set($0.paper.categories).isDisjoint(with: categories) }
        return (Array(theirs.prefix(mustRead)), Array(theirs.dropFirst(mustRead).prefix(more)))
    }

    /// A week's digests as one, for weekly readers: every paper scanned on those days, best
    /// first (the days' scores are on one scale), with the week's counts and cost summed. Made
    /// from stored digests, so it costs no model call. `nil` when there are none.
    public static func week(_ digests: [Digest], endingOn day: Day) -> Digest? {
        let days = digests.filter { $0.day <= day && day.adding(days: -6) <= $0.day }.sorted { $0.day < $1.day }
        guard let last = days.last else { return nil }
        var byPaper: [String: DigestEntry] = [:]
        for digest in days {
            for entry in digest.entries {
                // A paper cross-listed on a later day keeps the better of its entries.
                if let seen = byPaper[entry.paper.id], seen.score >= entry.score { continue }
                byPaper[entry.paper.id] = entry
            }
        }
        let costs = days.compactMap(\.usage.cost)
        let usage = TokenUsage(
            promptTokens: days.map(\.usage.promptTokens).reduce(0, +), completionTokens: days.map(\.usage.completionTokens).reduce(0, +),
            cost: costs.isEmpty ? nil : costs.reduce(0, +), currency: last.usage.currency)
        let modes = Set(days.map(\.mode))
        var week = Digest(
            day: day, mode: modes.count == 1 ? last.mode : .mixed, model: last.model, entries: ranked(Array(byPaper.values)),
            candidates: days.map(\.candidates).reduce(0, +), mustRead: last.mustRead, more: last.more,
            languages: Language.allCases.filter { language in days.contains { $0.languages.contains(language) } },
            categories: days.flatMap(\.categories).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } },
            usage: usage, notes: [], createdAt: last.createdAt)
        week.weekStart = day.adding(days: -6)
        return week
    }

    /// Orders entries best first; ties go to the lower arXiv id so the order is stable.
    public static func ranked(_ entries: [DigestEntry]) -> [DigestEntry] {
        entries.sorted { ($0.score, $1.paper.id) > ($1.score, $0.paper.id) }
    }
}
