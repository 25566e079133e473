import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// Stored digests read from PostgreSQL: what a send mails.
public struct PostgresDigestArchive: DigestArchive {
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
                let paper = Paper(
                    id: try cells[2].decode(String.self), version: Int(try cells[3].decode(Int64.self)),
                    title: try cells[4].decode(String.self), abstract: try cells[5].decode(String.self),
                    authors: try JSONDecoder().decode([String].self, from: Data(try cells[6].decode(String.self).utf8)),
                    categories: try cells[13].decode([String].self), published: try cells[7].decode(Date?.self),
                    updated: try cells[8].decode(Date?.self), comment: try cells[9].decode(String?.self),
                    journalRef: try cells[10].decode(String?.self), doi: try cells[11].decode(String?.self),
                    enriched: try cells[12].decode(Bool.self))
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
                let totals = try await database.run(
                    """
                    SELECT COALESCE(SUM(prompt_tokens), 0)::bigint, COALESCE(SUM(completion_tokens), 0)::bigint, SUM(cost)
                    FROM llm_call WHERE day = \(key)
                    """,
                    on: connection)
                if let (prompt, completion, cost) = try totals.first?.decode((Int64, Int64, Double?).self) {
                    digest.usage = TokenUsage(
                        promptTokens: Int(prompt), completionTokens: Int(completion), cost: cost, currency: digest.usage.currency)
                }
            }
            return digest
        }
    }
}
