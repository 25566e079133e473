import Crypto
import Foundation
import GRDB
import PaperPostCore

/// One thing a returned message says about one subscriber.
public struct BounceEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The address does not exist: adds 1 to the score.
        case hard
        /// A final failure that says nothing about the address (full, blocked): adds 0.5.
        case soft
        /// "Still trying": recorded, scores nothing.
        case delayed
        /// A spam complaint: unsubscribes at once.
        case complaint
        /// A `mailto:` unsubscribe request: unsubscribes at once.
        case unsubscribe
        /// Out of office: recorded, changes nothing.
        case autoReply = "auto_reply"
    }

    /// Who it is about: the subscriber a return-path token or signed link names, else the
    /// address the bounce quotes.
    public enum Target: Sendable, Hashable {
        case subscriber(id: Int64, day: Day?)
        case address(String, originalMessageID: String?)
    }

    public var target: Target
    public var kind: Kind
    public var status: String?
    public var replyCode: String?
    public var diagnostic: String?
    public var feedbackType: String?

    public init(
        target: Target, kind: Kind, status: String? = nil, replyCode: String? = nil, diagnostic: String? = nil,
        feedbackType: String? = nil
    ) {
        self.target = target
        self.kind = kind
        self.status = status
        self.replyCode = replyCode
        self.diagnostic = diagnostic
        self.feedbackType = feedbackType
    }
}

/// What recording one inbound message changed.
public struct BounceRecording: Sendable, Hashable {
    public struct Applied: Sendable, Hashable {
        public var subscriberID: Int64
        public var email: String?
        public var kind: BounceEvent.Kind
        public var day: Day?
        public var scoreBefore: Double
        public var scoreAfter: Double
        public var statusAfter: SubscriberStatus
        /// Whether a delivery row moved to `bounced`.
        public var deliveryBounced: Bool

        package init(
            subscriberID: Int64, email: String?, kind: BounceEvent.Kind, day: Day?, scoreBefore: Double, scoreAfter: Double,
            statusAfter: SubscriberStatus, deliveryBounced: Bool
        ) {
            self.subscriberID = subscriberID
            self.email = email
            self.kind = kind
            self.day = day
            self.scoreBefore = scoreBefore
            self.scoreAfter = scoreAfter
            self.statusAfter = statusAfter
            self.deliveryBounced = deliveryBounced
        }
    }

    /// The same message was recorded before; nothing changed.
    public var duplicate: Bool
    public var applied: [Applied]
    /// Events that named no subscriber we know (an address never subscribed, a forged token).
    public var unmatched: Int

    package init(duplicate: Bool, applied: [Applied], unmatched: Int) {
        self.duplicate = duplicate
        self.applied = applied
        self.unmatched = unmatched
    }
}

/// Where what mail sends back is recorded: the bounce score, the subscriber's status, the
/// digest's delivery row. Two implementations: SQLite (``BounceStore``) and PostgreSQL.
public protocol BounceLedger: Sendable {
    /// Records one inbound message's events in one transaction, once: a message whose digest
    /// was recorded before changes nothing and comes back as `duplicate`.
    func record(messageDigest: String, kind: String, summary: String?, events: [BounceEvent], policy: BouncePolicy, now: Date) async throws
        -> BounceRecording
}

extension BounceStore: BounceLedger {}

/// The bounce score and the record of everything mail sent back, in SQLite.
public struct BounceStore: Sendable {
    let database: PaperPostDatabase

    public init(database: PaperPostDatabase) {
        self.database = database
    }

    /// The key an inbound message is remembered by: the SHA-256 of its bytes.
    public static func digest(of bytes: some Collection<UInt8>) -> String {
        SHA256.hash(data: Array(bytes)).hexEncoded
    }

    /// Records one inbound message's events in one transaction, once: a message whose digest
    /// was recorded before changes nothing and comes back as `duplicate`.
    public func record(
        messageDigest: String, kind: String, summary: String?, events: [BounceEvent], policy: BouncePolicy, now: Date
    ) async throws -> BounceRecording {
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO inbound_message (digest, kind, summary, received_at) VALUES (?, ?, ?, ?)",
                arguments: [messageDigest, kind, summary, now])
            guard db.changesCount == 1 else { return BounceRecording(duplicate: true, applied: [], unmatched: 0) }
            var applied: [BounceRecording.Applied] = []
            var unmatched = 0
            for event in events {
                if let result = try Self.apply(event, db, policy: policy, now: now) {
                    applied.append(result)
                } else {
                    unmatched += 1
                }
            }
            return BounceRecording(duplicate: false, applied: applied, unmatched: unmatched)
        }
    }

    /// A hard bounce read from the SMTP dialogue itself (a 5.1.x at RCPT TO), inside the
    /// sender's own transaction.
    static func recordSMTPBounce(_ db: Database, subscriberID: Int64, day: Day, reply: String, policy: BouncePolicy, now: Date) throws {
        let event = BounceEvent(target: .subscriber(id: subscriberID, day: day), kind: .hard, diagnostic: reply)
        _ = try apply(event, db, policy: policy, now: now, source: "smtp")
    }

    private static func apply(
        _ event: BounceEvent, _ db: Database, policy: BouncePolicy, now: Date, source: String = "inbound"
    ) throws -> BounceRecording.Applied? {
        guard let (subscriberID, day) = try resolve(event.target, db) else { return nil }
        guard var record = try SubscriberRecord.fetchOne(db, key: subscriberID), record.email != nil else { return nil }
        let before = record.bounceScore
        var weight = 0.0
        var deliveryBounced = false
        switch event.kind {
        case .hard, .soft:
            weight = try score(&record, db, weight: event.kind == .hard ? BouncePolicy.hardWeight : BouncePolicy.softWeight, policy: policy, now: now)
            if let day, source == "inbound" {
                try db.execute(
                    sql: """
                        UPDATE delivery SET state = 'bounced', last_code = ?, last_reply = ?, updated_at = ?
                        WHERE day = ? AND subscriber_id = ? AND state IN ('sent', 'bounced')
                        """,
                    arguments: [event.replyCode.flatMap { Int($0) }, event.diagnostic ?? event.status, now, day.description, subscriberID])
                deliveryBounced = db.changesCount > 0
            }
            if record.bounceScore >= policy.threshold, record.status == SubscriberStatus.active.rawValue {
                try SubscriberStore.apply(SubscriberChange(status: .bounced), to: &record, db, source: .bounce)
            }
        case .complaint, .unsubscribe:
            if record.status != SubscriberStatus.unsubscribed.rawValue {
                try SubscriberStore.apply(SubscriberChange(status: .unsubscribed), to: &record, db, source: .bounce)
            }
        case .delayed, .autoReply:
            break
        }
        try db.execute(
            sql: """
                INSERT INTO bounce_event (subscriber_id, day, kind, source, weight, status, reply_code, diagnostic, feedback_type, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                subscriberID, day?.description, event.kind.rawValue, source, weight, event.status, event.replyCode,
                event.diagnostic.map { String($0.prefix(1000)) }, event.feedbackType, now,
            ])
        return BounceRecording.Applied(
            subscriberID: subscriberID, email: record.email, kind: event.kind, day: day, scoreBefore: before,
            scoreAfter: record.bounceScore, statusAfter: SubscriberStatus(rawValue: record.status) ?? .paused,
            deliveryBounced: deliveryBounced)
    }

    /// Adds `weight` unless a bounce already counted today; starts from zero after a quiet
    /// period. Returns what was added.
    private static func score(_ record: inout SubscriberRecord, _ db: Database, weight: Double, policy: BouncePolicy, now: Date) throws -> Double {
        guard let score = policy.score(record.bounceScore, lastBounceAt: record.lastBounceAt, adding: weight, now: now) else { return 0 }
        record.bounceScore = score
        record.bounceCount += 1
        record.lastBounceAt = now
        record.updatedAt = now
        try db.execute(
            sql: "UPDATE subscriber SET bounce_score = ?, bounce_count = ?, last_bounce_at = ?, updated_at = ? WHERE id = ?",
            arguments: [record.bounceScore, record.bounceCount, now, now, record.id])
        return weight
    }

    /// The subscriber and digest an event names. A token names both; an address names the
    /// subscriber, and the digest is the one whose delivery carried the quoted Message-ID.
    private static func resolve(_ target: BounceEvent.Target, _ db: Database) throws -> (Int64, Day?)? {
        switch target {
        case .subscriber(let id, let day):
            return (id, day)
        case .address(let text, let messageID):
            guard let address = try? EmailAddress(text), let record = try SubscriberStore.record(db, for: address), let id = record.id else {
                return nil
            }
            var day: Day?
            if let messageID, let named = Self.day(namedIn: messageID, subscriberID: id) {
                // The ID is only a claim: the day counts if that delivery really carried it.
                let carried = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM delivery WHERE day = ? AND subscriber_id = ? AND message_id = ?",
                    arguments: [named.description, id, messageID]) ?? false
                day = carried ? named : nil
            }
            return (id, day)
        }
    }

    /// The day in a digest's Message-ID, `<2026-02-21.42.0123456789abcdef@example.org>`, when it
    /// is this subscriber's. Other Message-IDs (notices, mail PaperPost did not send) name none.
    package static func day(namedIn messageID: String, subscriberID: Int64) -> Day? {
        var text = Substring(messageID)
        if text.hasPrefix("<") { text = text.dropFirst() }
        guard let at = text.lastIndex(of: "@") else { return nil }
        let parts = text[..<at].split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, Int64(parts[1]) == subscriberID else { return nil }
        return try? Day(parsing: String(parts[0]))
    }

    /// Per digest: messages sent, bounces (hard and soft) and complaints read back.
    public func stats(day: Day? = nil) async throws -> [BounceStats] {
        try await database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.day AS day,
                        SUM(d.state IN ('sent', 'bounced')) AS delivered,
                        (SELECT COUNT(*) FROM bounce_event e WHERE e.day = d.day AND e.kind = 'hard') AS hard,
                        (SELECT COUNT(*) FROM bounce_event e WHERE e.day = d.day AND e.kind = 'soft') AS soft,
                        (SELECT COUNT(*) FROM bounce_event e WHERE e.day = d.day AND e.kind = 'complaint') AS complaints
                    FROM delivery d WHERE ?1 IS NULL OR d.day = ?1 GROUP BY d.day ORDER BY d.day DESC
                    """,
                arguments: [day?.description])
            return try rows.map { row in
                BounceStats(
                    day: try Day(parsing: row["day"]), delivered: row["delivered"], hardBounces: row["hard"], softBounces: row["soft"],
                    complaints: row["complaints"])
            }
        }
    }

    /// A subscriber's bounce history, newest first.
    public func events(subscriberID: Int64) async throws -> [(kind: BounceEvent.Kind, day: Day?, weight: Double, diagnostic: String?, at: Date)] {
        try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM bounce_event WHERE subscriber_id = ? ORDER BY id DESC", arguments: [subscriberID]
            ).map { row in
                (BounceEvent.Kind(rawValue: row["kind"]) ?? .soft, (row["day"] as String?).flatMap { try? Day(parsing: $0) },
                 row["weight"], row["diagnostic"], row["created_at"])
            }
        }
    }
}

/// One digest's bounce and complaint figures.
public struct BounceStats: Sendable, Hashable {
    public var day: Day
    public var delivered: Int
    public var hardBounces: Int
    public var softBounces: Int
    public var complaints: Int

    public init(day: Day, delivered: Int, hardBounces: Int, softBounces: Int, complaints: Int) {
        self.day = day
        self.delivered = delivered
        self.hardBounces = hardBounces
        self.softBounces = softBounces
        self.complaints = complaints
    }

    /// Complaints per message delivered (0 when none were).
    public var complaintRate: Double { delivered == 0 ? 0 : Double(complaints) / Double(delivered) }

    /// Gmail and Yahoo start filtering above 0.3 %; a list should stay under 0.1 %.
    public static let complaintRateWarning = 0.001
}
