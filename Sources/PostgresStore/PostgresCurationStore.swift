import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// The ledger of model calls, the answer cache and the digests, in PostgreSQL.
public struct PostgresCurationStore: CurationLedger, EditionArchive {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func latestAnnouncedDay() async throws -> Day? {
        try await database.pooledTransaction { connection in
            try await database.run("SELECT day FROM announcement ORDER BY day DESC LIMIT 1", on: connection).first.map {
                try Day(parsing: try $0.decode(String.self))
            }
        }
    }

    public func digest(on day: Day) async throws -> Digest? {
        try await database.pooledTransaction { connection in
            let key = day.description
            guard
                let row = try await database.run(
                    """
                    SELECT mode, model, candidates, must_read, more, languages, categories, currency, notes, created_at
                    FROM digest WHERE day = \(key)
                    """,
                    on: connection
                ).first
            else { return nil }
            let (mode, model, candidates, mustRead, more, languages, categories, currency, notes, createdAt) = try row.decode(
                (String, String?, Int64, Int64, Int64, String, String, String, String, Date).self)
            var entries: [DigestEntry] = []
            var index: [String: Int] = [:]
            for row in try await database.run(
                """
                SELECT e.score, e.scored_by, p.id, p.version, p.title, p.abstract, p.authors, p.published, p.updated, p.comment,
                    p.journal_ref, p.doi, p.enriched,
                    ARRAY(SELECT c.category FROM paper_category c WHERE c.paper_id = p.id ORDER BY c.position)
                FROM digest_entry e JOIN paper p ON p.id = e.paper_id WHERE e.day = \(key) ORDER BY e.rank
                """,
                on: connection)
            {
                let cells = row.makeRandomAccess()
                let paper = try Self.paper(cells, from: 2)
                index[paper.id] = entries.count
                entries.append(DigestEntry(
                    paper: paper, score: try cells[0].decode(Double.self),
                    scoredBy: CurationSource(rawValue: try cells[1].decode(String.self)) ?? .heuristic, reasons: [:]))
            }
            for row in try await database.run(
                "SELECT paper_id, language, reason FROM digest_reason WHERE day = \(key)", on: connection)
            {
                let (paperID, language, reason) = try row.decode((String, String, String).self)
                guard let language = Language(rawValue: language), let position = index[paperID] else { continue }
                entries[position].reasons[language] = reason
            }
            for row in try await database.run(
                """
                SELECT paper_id, language, title, background, innovation, details, results, source
                FROM digest_summary WHERE day = \(key)
                """,
                on: connection)
            {
                let (paperID, language, title, background, innovation, details, results, source) = try row.decode(
                    (String, String, String, String, String, String, String, String).self)
                guard let language = Language(rawValue: language), let position = index[paperID] else { continue }
                entries[position].summaries[language] = Summary(
                    title: title, background: background, innovation: innovation, details: details, results: results,
                    source: CurationSource(rawValue: source) ?? .heuristic)
            }
            let assembled = try CurationStore.assemble(
                CurationStore.StoredDigest(
                    day: day, mode: mode, model: model, candidates: Int(candidates), mustRead: Int(mustRead), more: Int(more),
                    languages: languages, categories: categories, currency: currency, notes: notes, createdAt: createdAt),
                entries: entries)
            var digest = assembled.0
            if !assembled.ownUsage {
                digest.usage = try await Self.usage(on: day, currency: digest.usage.currency, database, connection)
            }
            return digest
        }
    }

    /// A paper from twelve cells starting at `first`: id, version, title, abstract, authors,
    /// published, updated, comment, journal_ref, doi, enriched, and the categories in order.
    static func paper(_ cells: PostgresRandomAccessRow, from first: Int) throws -> Paper {
        Paper(
            id: try cells[first].decode(String.self), version: Int(try cells[first + 1].decode(Int64.self)),
            title: try cells[first + 2].decode(String.self), abstract: try cells[first + 3].decode(String.self),
            authors: try JSONDecoder().decode([String].self, from: Data(try cells[first + 4].decode(String.self).utf8)),
            categories: try cells[first + 11].decode([String].self), published: try cells[first + 5].decode(Date?.self),
            updated: try cells[first + 6].decode(Date?.self), comment: try cells[first + 7].decode(String?.self),
            journalRef: try cells[first + 8].decode(String?.self), doi: try cells[first + 9].decode(String?.self),
            enriched: try cells[first + 10].decode(Bool.self))
    }

    public func record(_ call: LLMCall) async throws {
        try await database.pooledTransaction { connection in
            _ = try await database.run(
                """
                INSERT INTO llm_call (day, purpose, language, model, paper_ids, prompt_tokens, completion_tokens,
                                      cost, currency, latency_ms, outcome, detail, created_at)
                VALUES (\(call.day.description), \(call.purpose.rawValue), \(call.language?.rawValue), \(call.model),
                        \(call.paperIDs.joined(separator: " ")), \(Int64(call.promptTokens)), \(Int64(call.completionTokens)),
                        \(call.cost), \(call.currency), \(Int64(call.latency.wholeMilliseconds)), \(call.outcome.rawValue), \(call.detail),
                        \(Date()))
                """,
                on: connection)
        }
    }

    public func calls(on day: Day) async throws -> [LLMCall] {
        try await database.pooledTransaction { connection in
            try await database.run(
                """
                SELECT purpose, language, model, paper_ids, prompt_tokens, completion_tokens, cost, currency, latency_ms, outcome, detail
                FROM llm_call WHERE day = \(day.description) ORDER BY id
                """,
                on: connection
            ).map { row in
                let (purpose, language, model, paperIDs, prompt, completion, cost, currency, latency, outcome, detail) = try row.decode(
                    (String, String?, String, String, Int64, Int64, Double?, String, Int64, String, String?).self)
                return LLMCall(
                    day: day, purpose: LLMCall.Purpose(rawValue: purpose) ?? .score, language: language.flatMap(Language.init(rawValue:)),
                    model: model, paperIDs: paperIDs.split(separator: " ").map(String.init), promptTokens: Int(prompt),
                    completionTokens: Int(completion), cost: cost, currency: currency, latency: .milliseconds(latency),
                    outcome: LLMCall.Outcome(rawValue: outcome) ?? .failed, detail: detail)
            }
        }
    }

    public func usage(on day: Day, currency: String) async throws -> TokenUsage {
        try await database.pooledTransaction { connection in
            try await Self.usage(on: day, currency: currency, database, connection)
        }
    }

    static func usage(on day: Day, currency: String, _ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> TokenUsage {
        let totals = try await database.run(
            """
            SELECT COALESCE(SUM(prompt_tokens), 0)::bigint, COALESCE(SUM(completion_tokens), 0)::bigint, SUM(cost)
            FROM llm_call WHERE day = \(day.description)
            """,
            on: connection)
        guard let row = totals.first else { return TokenUsage(currency: currency) }
        let (prompt, completion, cost) = try row.decode((Int64, Int64, Double?).self)
        return TokenUsage(promptTokens: Int(prompt), completionTokens: Int(completion), cost: cost, currency: currency)
    }

    public func cachedAnswers(for keys: [String]) async throws -> [String: Data] {
        guard !keys.isEmpty else { return [:] }
        return try await database.pooledTransaction { connection in
            var found: [String: Data] = [:]
            for row in try await database.run("SELECT key, result FROM llm_cache WHERE key = ANY(\(keys))", on: connection) {
                let (key, result) = try row.decode((String, String).self)
                found[key] = Data(result.utf8)
            }
            return found
        }
    }

    public func cache(_ answers: [CachedAnswer]) async throws {
        guard !answers.isEmpty else { return }
        try await database.pooledTransaction { connection in
            let now = Date()
            for answer in answers {
                try await database.run(
                    """
                    INSERT INTO llm_cache (key, purpose, paper_id, language, model, prompt_version, result, created_at)
                    VALUES (\(answer.key), \(answer.purpose.rawValue), \(answer.paperID), \(answer.language.rawValue), \(answer.model),
                            \(answer.promptVersion), \(String(decoding: answer.result, as: UTF8.self)), \(now))
                    ON CONFLICT (key) DO UPDATE SET purpose = EXCLUDED.purpose, paper_id = EXCLUDED.paper_id,
                        language = EXCLUDED.language, model = EXCLUDED.model, prompt_version = EXCLUDED.prompt_version,
                        result = EXCLUDED.result, created_at = EXCLUDED.created_at
                    """,
                    on: connection)
            }
        }
    }

    public func save(_ digest: Digest) async throws {
        let notes = try CurationStore.encodeNotes(digest)
        try await database.pooledTransaction { connection in
            let day = digest.day.description
            // Two curations of one day store one after the other (the last one stays, as on
            // SQLite), instead of the second failing on the first's uncommitted row.
            try await database.run("SELECT pg_advisory_xact_lock(hashtext('paperpost digest ' || \(day))::bigint)", on: connection)
            try await database.run("DELETE FROM digest WHERE day = \(day)", on: connection)
            try await database.run(
                """
                INSERT INTO digest (day, mode, model, candidates, must_read, more, languages, categories, currency, notes, created_at)
                VALUES (\(day), \(digest.mode.rawValue), \(digest.model), \(Int64(digest.candidates)), \(Int64(digest.mustRead)),
                        \(Int64(digest.more)), \(digest.languages.map(\.rawValue).joined(separator: " ")),
                        \(digest.categories.joined(separator: " ")), \(digest.usage.currency), \(notes), \(digest.createdAt))
                """,
                on: connection)
            for (index, entry) in digest.entries.enumerated() {
                try await database.run(
                    """
                    INSERT INTO digest_entry (day, paper_id, rank, score, scored_by)
                    VALUES (\(day), \(entry.paper.id), \(Int64(index + 1)), \(entry.score), \(entry.scoredBy.rawValue))
                    """,
                    on: connection)
                for (language, reason) in entry.reasons {
                    try await database.run(
                        """
                        INSERT INTO digest_reason (day, paper_id, language, reason)
                        VALUES (\(day), \(entry.paper.id), \(language.rawValue), \(reason))
                        """,
                        on: connection)
                }
                for (language, summary) in entry.summaries {
                    try await database.run(
                        """
                        INSERT INTO digest_summary (day, paper_id, language, title, background, innovation, details, results, source)
                        VALUES (\(day), \(entry.paper.id), \(language.rawValue), \(summary.title), \(summary.background),
                                \(summary.innovation), \(summary.details), \(summary.results), \(summary.source.rawValue))
                        """,
                        on: connection)
                }
            }
        }
    }

    public func digestDays(limit: Int) async throws -> [Day] {
        try await database.pooledStatement("SELECT day FROM digest ORDER BY day DESC LIMIT \(Int64(max(0, limit)))").map {
            try Day(parsing: try $0.decode(String.self))
        }
    }

    public func digestStamps(limit: Int) async throws -> [(day: Day, createdAt: String)] {
        try await database.pooledStatement("SELECT day, created_at::text FROM digest ORDER BY day DESC LIMIT \(Int64(max(0, limit)))").map {
            let (day, stamp) = try $0.decode((String, String).self)
            return (try Day(parsing: day), stamp)
        }
    }

    public func digestStamp(on day: Day) async throws -> String? {
        try await database.pooledStatement("SELECT created_at::text FROM digest WHERE day = \(day.description)").first.map {
            try $0.decode(String.self)
        }
    }
}
