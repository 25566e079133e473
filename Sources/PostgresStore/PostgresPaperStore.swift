import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// Papers and the announcements they came in, in PostgreSQL.
public struct PostgresPaperStore: PaperArchive {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func record(day: Day, categories: [String], papers: [AnnouncedPaper], source: String) async throws -> AnnouncementTally {
        try await database.pooledTransaction { connection in
            var tally = AnnouncementTally()
            let now = Date()
            let key = day.description
            // The day's row locked first: two fetches of one day add their categories one after the other.
            let inserted = try await database.run(
                """
                INSERT INTO announcement (day, categories, paper_count, source, fetched_at) VALUES (\(key), '', 0, \(source), \(now))
                ON CONFLICT (day) DO NOTHING RETURNING 1
                """,
                on: connection)
            tally.dayWasKnown = inserted.isEmpty
            let existing = try await database.run("SELECT categories FROM announcement WHERE day = \(key) FOR UPDATE", on: connection)
                .first.map { try $0.decode(String.self) }
            var allCategories = existing?.split(separator: " ").map(String.init) ?? []
            for code in categories where !allCategories.contains(code) {
                allCategories.append(code)
            }
            try await database.run(
                "UPDATE announcement SET categories = \(allCategories.joined(separator: " ")) WHERE day = \(key)", on: connection)

            for announced in papers {
                tally.count(
                    try await Self.upsert(announced.paper, now: now, database, connection), of: announced.paper, askedFor: categories)
                try await database.run(
                    """
                    INSERT INTO announcement_paper (day, paper_id, announce_type) VALUES (\(key), \(announced.paper.id), \(announced.announceType.rawValue))
                    ON CONFLICT DO NOTHING
                    """,
                    on: connection)
            }
            try await database.run(
                "UPDATE announcement SET paper_count = (SELECT count(*) FROM announcement_paper WHERE day = \(key)) WHERE day = \(key)",
                on: connection)
            return tally
        }
    }

    public func title(of id: String) async throws -> String? {
        try await database.pooledStatement("SELECT title FROM paper WHERE id = \(id)").first.map { try $0.decode(String.self) }
    }

    private static func upsert(
        _ paper: Paper, now: Date, _ database: PostgresDatabase, _ connection: PostgresConnection
    ) async throws -> AnnouncementTally.Outcome {
        let stored = try await database.run("SELECT version, enriched FROM paper WHERE id = \(paper.id) FOR UPDATE", on: connection)
            .first.map { try $0.decode((Int64, Bool).self) }
        let outcome: AnnouncementTally.Outcome
        if let (version, enriched) = stored {
            guard PaperStore.supersedes(paper, storedVersion: Int(version), storedEnriched: enriched) else {
                return .skipped
            }
            outcome = .updated
        } else {
            outcome = .new
        }
        let authors = String(decoding: try JSONEncoder().encode(paper.authors), as: UTF8.self)
        try await database.run(
            """
            INSERT INTO paper (id, version, title, abstract, authors, primary_category, published, updated,
                               comment, journal_ref, doi, enriched, first_seen_at, updated_at)
            VALUES (\(paper.id), \(Int64(paper.version)), \(paper.title), \(paper.abstract), \(authors), \(paper.primaryCategory),
                    \(paper.published), \(paper.updated), \(paper.comment), \(paper.journalRef), \(paper.doi), \(paper.enriched), \(now), \(now))
            ON CONFLICT (id) DO UPDATE SET
                version = EXCLUDED.version, title = EXCLUDED.title, abstract = EXCLUDED.abstract,
                authors = EXCLUDED.authors, primary_category = EXCLUDED.primary_category,
                published = EXCLUDED.published, updated = EXCLUDED.updated, comment = EXCLUDED.comment,
                journal_ref = EXCLUDED.journal_ref, doi = EXCLUDED.doi, enriched = EXCLUDED.enriched,
                updated_at = EXCLUDED.updated_at
            """,
            on: connection)
        try await database.run("DELETE FROM paper_category WHERE paper_id = \(paper.id)", on: connection)
        for (position, code) in paper.categories.enumerated() {
            try await database.run(
                """
                INSERT INTO paper_category (paper_id, category, position) VALUES (\(paper.id), \(code), \(Int64(position)))
                ON CONFLICT DO NOTHING
                """,
                on: connection)
        }
        return outcome
    }

    public func announcement(on day: Day) async throws -> Announcement? {
        try await announcements("WHERE day = $1", day.description, limit: 1).first
    }

    public func announcements(limit: Int) async throws -> [Announcement] {
        try await announcements("WHERE $1::text IS NULL", nil, limit: limit)
    }

    private func announcements(_ condition: String, _ day: String?, limit: Int) async throws -> [Announcement] {
        var bindings = PostgresBindings()
        bindings.append(day)
        bindings.append(Int64(max(0, limit)))
        return try await database.pooledTransaction { connection in
            try await database.run(
                PostgresQuery(
                    unsafeSQL: "SELECT day, categories, paper_count, source, fetched_at FROM announcement \(condition) ORDER BY day DESC LIMIT $2",
                    binds: bindings),
                on: connection
            ).map { row in
                let (day, categories, count, source, fetchedAt) = try row.decode((String, String, Int64, String, Date).self)
                return Announcement(
                    day: try Day(parsing: day), categories: categories.split(separator: " ").map(String.init), paperCount: Int(count),
                    source: source, fetchedAt: fetchedAt)
            }
        }
    }

    public func papers(announcedOn day: Day?, category: String?) async throws -> [AnnouncedPaper] {
        var bindings = PostgresBindings()
        bindings.append(day?.description)
        bindings.append(category)
        return try await database.pooledTransaction { connection in
            try await database.run(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT p.id, p.version, p.title, p.abstract, p.authors, p.published, p.updated, p.comment, p.journal_ref, p.doi,
                            p.enriched, ARRAY(SELECT c.category FROM paper_category c WHERE c.paper_id = p.id ORDER BY c.position),
                            (SELECT a.announce_type FROM announcement_paper a WHERE a.paper_id = p.id AND ($1::text IS NULL OR a.day = $1)
                             ORDER BY a.day DESC LIMIT 1)
                        FROM paper p
                        WHERE ($1::text IS NULL OR EXISTS (SELECT 1 FROM announcement_paper a WHERE a.paper_id = p.id AND a.day = $1))
                        AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM paper_category c WHERE c.paper_id = p.id AND c.category = $2))
                        ORDER BY p.id COLLATE "C"
                        """,
                    binds: bindings),
                on: connection
            ).map { row in
                let cells = row.makeRandomAccess()
                return AnnouncedPaper(
                    paper: try PostgresCurationStore.paper(cells, from: 0),
                    announceType: AnnounceType(rawValue: try cells[12].decode(String?.self) ?? "new") ?? .new)
            }
        }
    }
}
