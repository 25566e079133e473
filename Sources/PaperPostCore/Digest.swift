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

    public init(title: String, background: String, innovation: String, details: String, results: String, source: CurationSource) {
        self.title = title
        self.background = background
        self.innovation = innovation
        self.details = details
        self.results = results
        self.source = source
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

    public init(
        day: Day, mode: Mode, model: String?, entries: [DigestEntry], candidates: Int, mustRead: Int, more: Int,
        languages: [Language], categories: [String], usage: TokenUsage, notes: [String], createdAt: Date
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

    /// Orders entries best first; ties go to the lower arXiv id so the order is stable.
    public static func ranked(_ entries: [DigestEntry]) -> [DigestEntry] {
        entries.sorted { ($0.score, $1.paper.id) > ($1.score, $0.paper.id) }
    }
}
