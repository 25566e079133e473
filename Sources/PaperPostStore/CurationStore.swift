import Foundation
import GRDB
import PaperPostCore

/// One call to the language model, for the ledger.
public struct LLMCall: Sendable, Hashable {
    public enum Purpose: String, Sendable {
        case score, summarize
        /// The minimal request a run makes first, so that a dead endpoint is known in seconds.
        case probe
    }
    public enum Outcome: String, Sendable { case ok, invalid, failed }

    public var day: Day
    public var purpose: Purpose
    public var language: Language?
    public var model: String
    public var paperIDs: [String]
    public var promptTokens: Int
    public var completionTokens: Int
    public var cost: Double?
    public var currency: String
    public var latency: Duration
    public var outcome: Outcome
    public var detail: String?

    public init(
        day: Day, purpose: Purpose, language: Language?, model: String, paperIDs: [String], promptTokens: Int,
        completionTokens: Int, cost: Double?, currency: String, latency: Duration, outcome: Outcome, detail: String?
    ) {
        self.day = day
        self.purpose = purpose
        self.language = language
        self.model = model
        self.paperIDs = paperIDs
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cost = cost
        self.currency = currency
        self.latency = latency
        self.outcome = outcome
        self.detail = detail
    }
}

/// A cached model answer about one paper.
public struct CachedAnswer: Sendable, Hashable {
    public var key: String
    public var purpose: LLMCall.Purpose
    public var paperID: String
    public var language: Language
    public var model: String
    public var promptVersion: String
    /// The validated answer, as JSON.
    public var result: Data

    public init(key: String, purpose: LLMCall.Purpose, paperID: String, language: Language, model: String, promptVersion: String, result: Data) {
        self.key = key
        self.purpose = purpose
        self.paperID = paperID
        self.language = language
        self.model = model
        self.promptVersion = promptVersion
        self.result = result
    }
}

/// The ledger of model calls, the answer cache, and curated digests.
public struct CurationStore: Sendable {
    let database: PaperPostDatabase

    public init(database: PaperPostDatabase) {
        self.database = database
    }

    public func record(_ call: LLMCall) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO llm_call (day, purpose, language, model, paper_ids, prompt_tokens, completion_tokens,
                                          cost, currency, latency_ms, outcome, detail, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    call.day.description, call.purpose.rawValue, call.language?.rawValue, call.model,
                    call.paperIDs.joined(separator: " "), call.promptTokens, call.completionTokens, call.cost,
                    call.currency, call.latency.wholeMilliseconds,
                    call.outcome.rawValue, call.detail, Date(),
                ])
        }
    }

    /// The ledger of a day, oldest first.
    public func calls(on day: Day) async throws -> [LLMCall] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM llm_call WHERE day = ? ORDER BY id", arguments: [day.description]).map { row in
                LLMCall(
                    day: day, purpose: LLMCall.Purpose(rawValue: row["purpose"]) ?? .score,
                    language: (row["language"] as String?).flatMap(Language.init(rawValue:)), model: row["model"],
                    paperIDs: (row["paper_ids"] as String).split(separator: " ").map(String.init),
                    promptTokens: row["prompt_tokens"], completionTokens: row["completion_tokens"], cost: row["cost"],
                    currency: row["currency"], latency: .milliseconds(row["latency_ms"] as Int),
                    outcome: LLMCall.Outcome(rawValue: row["outcome"]) ?? .failed, detail: row["detail"])
            }
        }
    }

    /// Everything billed for a day: the sum of its ledger. Cost is `nil` when no call had a price.
    public func usage(on day: Day, currency: String) async throws -> TokenUsage {
        try await database.read { db in try Self.usage(db, on: day, currency: currency) }
    }

    static func usage(_ db: Database, on day: Day, currency: String) throws -> TokenUsage {
        let row = try Row.fetchOne(
            db,
            sql: "SELECT COALESCE(SUM(prompt_tokens), 0) AS p, COALESCE(SUM(completion_tokens), 0) AS c, SUM(cost) AS cost FROM llm_call WHERE day = ?",
            arguments: [day.description])!
        return TokenUsage(promptTokens: row["p"], completionTokens: row["c"], cost: row["cost"], currency: currency)
    }

    public func cachedAnswers(for keys: [String]) async throws -> [String: Data] {
        try await database.read { db in
            var found: [String: Data] = [:]
            for key in keys {
                if let text = try String.fetchOne(db, sql: "SELECT result FROM llm_cache WHERE key = ?", arguments: [key]) {
                    found[key] = Data(text.utf8)
                }
            }
            return found
        }
    }

    public func cache(_ answers: [CachedAnswer]) async throws {
        guard !answers.isEmpty else { return }
        try await database.write { db in
            for answer in answers {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO llm_cache (key, purpose, paper_id, language, model, prompt_version, result, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        answer.key, answer.purpose.rawValue, answer.paperID, answer.language.rawValue, answer.model,
                        answer.promptVersion, String(decoding: answer.result, as: UTF8.self), Date(),
                    ])
            }
        }
    }

    /// Stores a digest, replacing the day's previous one, in one transaction.
    public func save(_ digest: Digest) async throws {
        try await database.write { db in
            let day = digest.day.description
            try db.execute(sql: "DELETE FROM digest WHERE day = ?", arguments: [day])
            try db.execute(
                sql: """
                    INSERT INTO digest (day, mode, model, candidates, must_read, more, languages, categories, currency, notes, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    day, digest.mode.rawValue, digest.model, digest.candidates, digest.mustRead, digest.more,
                    digest.languages.map(\.rawValue).joined(separator: " "), digest.categories.joined(separator: " "),
                    digest.usage.currency, try Self.encodeNotes(digest), digest.createdAt,
                ])
            for (index, entry) in digest.entries.enumerated() {
                try db.execute(
                    sql: "INSERT INTO digest_entry (day, paper_id, rank, score, scored_by) VALUES (?, ?, ?, ?, ?)",
                    arguments: [day, entry.paper.id, index + 1, entry.score, entry.scoredBy.rawValue])
                for (language, reason) in entry.reasons {
                    try db.execute(
                        sql: "INSERT INTO digest_reason (day, paper_id, language, reason) VALUES (?, ?, ?, ?)",
                        arguments: [day, entry.paper.id, language.rawValue, reason])
                }
                for (language, summary) in entry.summaries {
                    try db.execute(
                        sql: """
                            INSERT INTO digest_summary (day, paper_id, language, title, background, innovation, details, results, source)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            day, entry.paper.id, language.rawValue, summary.title, summary.background, summary.innovation,
                            summary.details, summary.results, summary.source.rawValue,
                        ])
                }
            }
        }
    }

    /// The `notes` column: a JSON array of notes, or, for a fallback digest, an object that
    /// also says why the model failed (so that digests stored before it read as they were).
    ///
    /// The object also holds the digest's own usage: what the run that made it spent (or, for
    /// a run that only reused cached answers, what the digest it replaced had spent), which is
    /// not the day's ledger total once a day has been curated twice.
    private struct StoredNotes: Codable {
        var notes: [String]
        var modelFailure: String?
        var usage: TokenUsage?
        /// "paper-id language" to the summary fields that hold the original English text.
        var originalFields: [String: [Summary.Field]]?

        enum CodingKeys: String, CodingKey {
            case notes, usage
            case modelFailure = "model_failure"
            case originalFields = "original_fields"
        }
    }

    package static func encodeNotes(_ digest: Digest) throws -> String {
        var original: [String: [Summary.Field]] = [:]
        for entry in digest.entries {
            for (language, summary) in entry.summaries where !summary.originalFields.isEmpty {
                original["\(entry.paper.id) \(language.rawValue)"] = summary.originalFields.sorted { $0.rawValue < $1.rawValue }
            }
        }
        let data = try JSONEncoder().encode(StoredNotes(
            notes: digest.notes, modelFailure: digest.modelFailure, usage: digest.usage, originalFields: original.isEmpty ? nil : original))
        return String(decoding: data, as: UTF8.self)
    }

    /// The `digest` row's columns as stored, whichever engine stored them.
    package struct StoredDigest {
        var day: Day
        var mode: String
        var model: String?
        var candidates: Int
        var mustRead: Int
        var more: Int
        var languages: String
        var categories: String
        var currency: String
        var notes: String
        var createdAt: Date

        package init(
            day: Day, mode: String, model: String?, candidates: Int, mustRead: Int, more: Int, languages: String, categories: String,
            currency: String, notes: String, createdAt: Date
        ) {
            self.day = day
            self.mode = mode
            self.model = model
            self.candidates = candidates
            self.mustRead = mustRead
            self.more = more
            self.languages = languages
            self.categories = categories
            self.currency = currency
            self.notes = notes
            self.createdAt = createdAt
        }
    }

    /// A digest from its stored row and its entries in rank order (their reasons and summaries
    /// read), and whether it holds its own usage (older digests take the day's ledger total).
    package static func assemble(_ row: StoredDigest, entries: [DigestEntry]) throws -> (Digest, ownUsage: Bool) {
        let notes = try decodeNotes(row.notes)
        var entries = entries
        for (key, fields) in notes.originalFields ?? [:] {
            let parts = key.split(separator: " ").map(String.init)
            guard parts.count == 2, let language = Language(rawValue: parts[1]),
                let index = entries.firstIndex(where: { $0.paper.id == parts[0] })
            else { continue }
            entries[index].summaries[language]?.originalFields = Set(fields)
        }
        let digest = Digest(
            day: row.day, mode: Digest.Mode(rawValue: row.mode) ?? .heuristic, model: row.model, entries: entries,
            candidates: row.candidates, mustRead: row.mustRead, more: row.more,
            languages: row.languages.split(separator: " ").compactMap { Language(rawValue: String($0)) },
            categories: row.categories.split(separator: " ").map(String.init),
            usage: notes.usage ?? TokenUsage(currency: row.currency),
            notes: notes.notes, createdAt: row.createdAt, modelFailure: notes.modelFailure)
        return (digest, notes.usage != nil)
    }

    private static func decodeNotes(_ text: String) throws -> StoredNotes {
        let data = Data(text.utf8)
        if let notes = try? JSONDecoder().decode([String].self, from: data) {
            return StoredNotes(notes: notes)
        }
        return try JSONDecoder().decode(StoredNotes.self, from: data)
    }

    /// When each of the newest digests was made, newest day first: what a page made from them
    /// is cached against (curating a day again replaces its digest and so its time).
    public func digestStamps(limit: Int = 90) async throws -> [(day: Day, createdAt: String)] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT day, created_at FROM digest ORDER BY day DESC LIMIT ?", arguments: [limit]).map {
                (try Day(parsing: $0[0]), $0[1])
            }
        }
    }

    /// When the day's digest was made, if there is one (see ``digestStamps(limit:)``).
    public func digestStamp(on day: Day) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT created_at FROM digest WHERE day = ?", arguments: [day.description])
        }
    }

    /// Days with a digest, newest first.
    public func digestDays(limit: Int = 90) async throws -> [Day] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT day FROM digest ORDER BY day DESC LIMIT ?", arguments: [limit]).map { try Day(parsing: $0) }
        }
    }

    /// The digest of a day, with its own usage (digests stored before that was kept: the
    /// day's ledger total).
    public func digest(on day: Day) async throws -> Digest? {
        let stored: (Digest, ownUsage: Bool)? = try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM digest WHERE day = ?", arguments: [day.description]) else {
                return nil
            }
            let ids = try String.fetchAll(db, sql: "SELECT paper_id FROM digest_entry WHERE day = ? ORDER BY rank", arguments: [day.description])
            let categories = try PaperStore.categories(db, of: ids)
            var entries: [String: DigestEntry] = [:]
            for entryRow in try Row.fetchAll(
                db, sql: "SELECT e.score, e.scored_by, p.* FROM digest_entry e JOIN paper p ON p.id = e.paper_id WHERE e.day = ?",
                arguments: [day.description])
            {
                let paper = try PaperStore.paper(from: entryRow, categories: categories[entryRow["id"] as String] ?? [])
                entries[paper.id] = DigestEntry(
                    paper: paper, score: entryRow["score"],
                    scoredBy: CurationSource(rawValue: entryRow["scored_by"]) ?? .heuristic, reasons: [:])
            }
            for reason in try Row.fetchAll(db, sql: "SELECT * FROM digest_reason WHERE day = ?", arguments: [day.description]) {
                guard let language = Language(rawValue: reason["language"]) else { continue }
                entries[reason["paper_id"] as String]?.reasons[language] = reason["reason"]
            }
            for summary in try Row.fetchAll(db, sql: "SELECT * FROM digest_summary WHERE day = ?", arguments: [day.description]) {
                guard let language = Language(rawValue: summary["language"]) else { continue }
                entries[summary["paper_id"] as String]?.summaries[language] = Summary(
                    title: summary["title"], background: summary["background"], innovation: summary["innovation"],
                    details: summary["details"], results: summary["results"],
                    source: CurationSource(rawValue: summary["source"]) ?? .heuristic)
            }
            return try Self.assemble(
                StoredDigest(
                    day: day, mode: row["mode"], model: row["model"], candidates: row["candidates"], mustRead: row["must_read"],
                    more: row["more"], languages: row["languages"], categories: row["categories"], currency: row["currency"],
                    notes: row["notes"], createdAt: row["created_at"]),
                entries: ids.compactMap { entries[$0] })
        }
        guard let stored else { return nil }
        var digest = stored.0
        if !stored.ownUsage {
            digest.usage = try await usage(on: day, currency: digest.usage.currency)
        }
        return digest
    }
}
