import Foundation
import GRDB
import PaperPostCore

/// A reader's vote on a paper, as `subscribers show` lists it.
public struct PaperVote: Sendable, Hashable {
    public var paperID: String
    public var title: String?
    public var vote: Vote
    public var at: Date

    public init(paperID: String, title: String?, vote: Vote, at: Date) {
        self.paperID = paperID
        self.title = title
        self.vote = vote
        self.at = at
    }
}

extension SubscriberStore {
    /// Records a reader's vote on a paper (replacing an earlier one) and remakes their taste
    /// from all their votes with `taste`, in one transaction.
    ///
    /// - Returns: `false` when the paper is not in the store (nothing is recorded).
    public func vote(
        id: Int64, paper: String, _ vote: Vote, taste: @escaping @Sendable ([VotedPaper]) -> [String: Double]
    ) async throws -> Bool {
        try await database.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM paper WHERE id = ?)", arguments: [paper]) == true else { return false }
            try db.execute(
                sql: """
                    INSERT INTO subscriber_vote (subscriber_id, paper_id, vote, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (subscriber_id, paper_id) DO UPDATE SET vote = excluded.vote, created_at = excluded.created_at
                    """,
                arguments: [id, paper, vote.rawValue, Date()])
            try Self.remakeTaste(db, of: id, taste)
            return true
        }
    }

    /// Takes back a vote, if it is still the one given (the undo after voting).
    public func withdrawVote(id: Int64, paper: String, _ vote: Vote, taste: @escaping @Sendable ([VotedPaper]) -> [String: Double]) async throws {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM subscriber_vote WHERE subscriber_id = ? AND paper_id = ? AND vote = ?", arguments: [id, paper, vote.rawValue])
            if db.changesCount > 0 { try Self.remakeTaste(db, of: id, taste) }
        }
    }

    /// A reader's current vote on a paper, if any.
    public func currentVote(id: Int64, paper: String) async throws -> Vote? {
        try await database.read { db in
            try Int.fetchOne(db, sql: "SELECT vote FROM subscriber_vote WHERE subscriber_id = ? AND paper_id = ?", arguments: [id, paper])
                .flatMap(Vote.init(rawValue:))
        }
    }

    /// A reader's votes, newest first.
    public func votes(of id: Int64) async throws -> [PaperVote] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT v.paper_id, p.title, v.vote, v.created_at FROM subscriber_vote v LEFT JOIN paper p ON p.id = v.paper_id
                    WHERE v.subscriber_id = ? ORDER BY v.created_at DESC, v.paper_id
                    """,
                arguments: [id]
            ).map { row in
                PaperVote(paperID: row[0], title: row[1], vote: Vote(rawValue: row[2]) ?? .up, at: row[3])
            }
        }
    }

    static func remakeTaste(_ db: Database, of id: Int64, _ taste: ([VotedPaper]) -> [String: Double]) throws {
        let voted = try Row.fetchAll(
            db,
            sql: "SELECT p.title, p.abstract, v.vote FROM subscriber_vote v JOIN paper p ON p.id = v.paper_id WHERE v.subscriber_id = ?",
            arguments: [id]
        ).map { VotedPaper(title: $0[0], abstract: $0[1], vote: Vote(rawValue: $0[2]) ?? .up) }
        let weights = taste(voted)
        guard !weights.isEmpty else {
            try db.execute(sql: "DELETE FROM subscriber_taste WHERE subscriber_id = ?", arguments: [id])
            return
        }
        let json = String(decoding: try JSONEncoder.sorted.encode(weights), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO subscriber_taste (subscriber_id, terms, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (subscriber_id) DO UPDATE SET terms = excluded.terms, updated_at = excluded.updated_at
                """,
            arguments: [id, json, Date()])
    }
}

extension JSONEncoder {
    /// Keys sorted, so that the same taste is stored as the same text.
    package static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}
