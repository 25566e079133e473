import Foundation
import GRDB
import PaperPostCore

/// A recorded arXiv announcement: the mailing day, what was asked for and how many papers it had.
public struct Announcement: Sendable, Hashable {
    public var day: Day
    public var categories: [String]
    public var paperCount: Int
    public var source: String
    public var fetchedAt: Date

    public var isEmpty: Bool { paperCount == 0 }

    public init(day: Day, categories: [String], paperCount: Int, source: String, fetchedAt: Date) {
        self.day = day
        self.categories = categories
        self.paperCount = paperCount
        self.source = source
        self.fetchedAt = fetchedAt
    }
}

/// What storing an announcement did, per category asked for.
public struct AnnouncementTally: Sendable, Hashable {
    public struct Counts: Sendable, Hashable {
        public var new = 0
        public var updated = 0
        public var skipped = 0

        public init(new: Int = 0, updated: Int = 0, skipped: Int = 0) {
            self.new = new
            self.updated = updated
            self.skipped = skipped
        }
    }

    /// For each category fetched, the papers in it (a cross-listed paper counts in each).
    public var byCategory: [String: Counts] = [:]
    /// Papers in the announcement overall, each once.
    public var total = Counts()
    /// Whether this day had already been recorded before this call.
    public var dayWasKnown = false

    public init() {}
}

/// Papers keyed by arXiv identifier, and the announcements they came in.
public struct PaperStore: Sendable {
    let database: PaperPostDatabase

    public init(database: PaperPostDatabase) {
        self.database = database
    }

    /// Stores an announcement in one transaction: every paper inserted or updated (a newer
    /// version replaces the metadata, API details replace feed-only data, anything else is
    /// skipped), and the day recorded with its ids and announce types. Recording a day again
    /// adds what is new and changes nothing else.
    public func record(
        day: Day, categories: [String], papers: [AnnouncedPaper], source: String
    ) async throws -> AnnouncementTally {
        try await database.write { db in
            var tally = AnnouncementTally()
            let now = Date()
            let existing = try Row.fetchOne(db, sql: "SELECT categories FROM announcement WHERE day = ?", arguments: [day.description])
            tally.dayWasKnown = existing != nil
            var allCategories = (existing?["categories"] as String?)?.split(separator: " ").map(String.init) ?? []
            for code in categories where !allCategories.contains(code) {
                allCategories.append(code)
            }
            try db.execute(
                sql: """
                    INSERT INTO announcement (day, categories, paper_count, source, fetched_at) VALUES (?, ?, 0, ?, ?)
                    ON CONFLICT(day) DO UPDATE SET categories = excluded.categories
                    """,
                arguments: [day.description, allCategories.joined(separator: " "), source, now])

            for announced in papers {
                tally.count(try Self.upsert(db, announced.paper, now: now), of: announced.paper, askedFor: categories)
                try db.execute(
                    sql: "INSERT OR IGNORE INTO announcement_paper (day, paper_id, announce_type) VALUES (?, ?, ?)",
                    arguments: [day.description, announced.paper.id, announced.announceType.rawValue])
            }
            try db.execute(
                sql: "UPDATE announcement SET paper_count = (SELECT COUNT(*) FROM announcement_paper WHERE day = ?1) WHERE day = ?1",
                arguments: [day.description])
            return tally
        }
    }

    /// The recorded announcement of a day, if any.
    public func announcement(on day: Day) async throws -> Announcement? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM announcement WHERE day = ?", arguments: [day.description])
                .map(Self.announcement(from:))
        }
    }

    /// A stored paper's title, or `nil` when there is no such paper.
    public func title(of id: String) async throws -> String? {
        try await database.read { db in try String.fetchOne(db, sql: "SELECT title FROM paper WHERE id = ?", arguments: [id]) }
    }

    /// Recorded announcements, newest first.
    public func announcements(limit: Int = 30) async throws -> [Announcement] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM announcement ORDER BY day DESC LIMIT ?", arguments: [limit])
                .map(Self.announcement(from:))
        }
    }

    /// Papers announced on a day (or all stored papers), optionally only those in a category.
    public func papers(announcedOn day: Day?, category: String? = nil) async throws -> [AnnouncedPaper] {
        try await database.read { db in
            var sql = "SELECT p.*, a.announce_type FROM paper p "
            var arguments: StatementArguments = []
            if let day {
                sql += "JOIN announcement_paper a ON a.paper_id = p.id AND a.day = ? "
                arguments += [day.description]
            } else {
                sql += "LEFT JOIN (SELECT paper_id, MAX(day), announce_type FROM announcement_paper GROUP BY paper_id) a ON a.paper_id = p.id "
            }
            if let category {
                sql += "WHERE p.id IN (SELECT paper_id FROM paper_category WHERE category = ?) "
                arguments += [category]
            }
            sql += "ORDER BY p.id"
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            let categories = try Self.categories(db, of: rows.map { $0["id"] as String })
            return try rows.map { row in
                AnnouncedPaper(
                    paper: try Self.paper(from: row, categories: categories[row["id"] as String] ?? []),
                    announceType: AnnounceType(rawValue: row["announce_type"] ?? "new") ?? .new)
            }
        }
    }
}

extension AnnouncementTally {
    /// What recording one paper did.
    package enum Outcome { case new, updated, skipped }

    /// Counts a paper once overall and once in each of the categories asked for that it is in.
    package mutating func count(_ outcome: Outcome, of paper: Paper, askedFor categories: [String]) {
        func add(_ counts: inout Counts) {
            switch outcome {
            case .new: counts.new += 1
            case .updated: counts.updated += 1
            case .skipped: counts.skipped += 1
            }
        }
        add(&total)
        for code in paper.categories where categories.contains(code) {
            add(&byCategory[code, default: Counts()])
        }
    }
}

extension PaperStore {
    /// Whether `paper` replaces the stored one: a newer version, or the API's details for the same.
    package static func supersedes(_ paper: Paper, storedVersion: Int, storedEnriched: Bool) -> Bool {
        paper.version > storedVersion || (paper.version == storedVersion && paper.enriched && !storedEnriched)
    }

    static func upsert(_ db: Database, _ paper: Paper, now: Date) throws -> AnnouncementTally.Outcome {
        let stored = try Row.fetchOne(db, sql: "SELECT version, enriched FROM paper WHERE id = ?", arguments: [paper.id])
        let outcome: AnnouncementTally.Outcome
        if let stored {
            guard supersedes(paper, storedVersion: stored["version"], storedEnriched: stored["enriched"]) else {
                return .skipped
            }
            outcome = .updated
        } else {
            outcome = .new
        }
        let authors = String(decoding: try JSONEncoder().encode(paper.authors), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO paper (id, version, title, abstract, authors, primary_category, published, updated,
                                   comment, journal_ref, doi, enriched, first_seen_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                    version = excluded.version, title = excluded.title, abstract = excluded.abstract,
                    authors = excluded.authors, primary_category = excluded.primary_category,
                    published = excluded.published, updated = excluded.updated, comment = excluded.comment,
                    journal_ref = excluded.journal_ref, doi = excluded.doi, enriched = excluded.enriched,
                    updated_at = excluded.updated_at
                """,
            arguments: [
                paper.id, paper.version, paper.title, paper.abstract, authors, paper.primaryCategory,
                paper.published, paper.updated, paper.comment, paper.journalRef, paper.doi, paper.enriched, now, now,
            ])
        try db.execute(sql: "DELETE FROM paper_category WHERE paper_id = ?", arguments: [paper.id])
        for (position, code) in paper.categories.enumerated() {
            try db.execute(
                sql: "INSERT OR IGNORE INTO paper_category (paper_id, category, position) VALUES (?, ?, ?)",
                arguments: [paper.id, code, position])
        }
        return outcome
    }

    static func categories(_ db: Database, of ids: [String]) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT paper_id, category FROM paper_category WHERE paper_id IN (SELECT value FROM json_each(?)) ORDER BY paper_id, position",
            arguments: [String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)])
        for row in rows {
            result[row["paper_id"], default: []].append(row["category"])
        }
        return result
    }

    static func paper(from row: Row, categories: [String]) throws -> Paper {
        Paper(
            id: row["id"], version: row["version"], title: row["title"], abstract: row["abstract"],
            authors: try JSONDecoder().decode([String].self, from: Data((row["authors"] as String).utf8)),
            categories: categories, published: row["published"], updated: row["updated"],
            comment: row["comment"], journalRef: row["journal_ref"], doi: row["doi"], enriched: row["enriched"])
    }

    static func announcement(from row: Row) throws -> Announcement {
        Announcement(
            day: try Day(parsing: row["day"]),
            categories: (row["categories"] as String).split(separator: " ").map(String.init),
            paperCount: row["paper_count"], source: row["source"], fetchedAt: row["fetched_at"])
    }
}
