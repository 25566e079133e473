import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// What mail sends back, in PostgreSQL: the same score, status changes, delivery rows and
/// bounce events as ``BounceStore`` records on SQLite.
public struct PostgresBounceStore: BounceLedger {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func record(
        messageDigest: String, kind: String, summary: String?, events: [BounceEvent], policy: BouncePolicy, now: Date
    ) async throws -> BounceRecording {
        try await database.pooledTransaction { connection in
            let inserted = try await database.run(
                """
                INSERT INTO inbound_message (digest, kind, summary, received_at) VALUES (\(messageDigest), \(kind), \(summary), \(now))
                ON CONFLICT (digest) DO NOTHING RETURNING 1
                """,
                on: connection)
            guard !inserted.isEmpty else { return BounceRecording(duplicate: true, applied: [], unmatched: 0) }
            var applied: [BounceRecording.Applied] = []
            var unmatched = 0
            for event in events {
                if let result = try await Self.apply(event, policy: policy, now: now, source: "inbound", database, connection) {
                    applied.append(result)
                } else {
                    unmatched += 1
                }
            }
            return BounceRecording(duplicate: false, applied: applied, unmatched: unmatched)
        }
    }

    /// Applies one event inside the caller's transaction: the inbound ledger's, or a sender's
    /// commit for a hard bounce at RCPT TO (`source` "smtp", which leaves the delivery row to
    /// the sender).
    static func apply(
        _ event: BounceEvent, policy: BouncePolicy, now: Date, source: String, _ database: PostgresDatabase, _ connection: PostgresConnection
    ) async throws -> BounceRecording.Applied? {
        guard let (subscriberID, day) = try await resolve(event.target, database, connection),
            var row = try await PostgresSubscriberStore.stored(id: subscriberID, database, connection), row.email != nil
        else { return nil }
        let before = row.bounceScore
        var weight = 0.0
        var deliveryBounced = false
        switch event.kind {
        case .hard, .soft:
            let adding = event.kind == .hard ? BouncePolicy.hardWeight : BouncePolicy.softWeight
            if let score = policy.score(row.bounceScore, lastBounceAt: row.lastBounceAt, adding: adding, now: now) {
                weight = adding
                row.bounceScore = score
                row.bounceCount += 1
                row.lastBounceAt = now
                try await database.run(
                    """
                    UPDATE subscriber SET bounce_score = \(score), bounce_count = bounce_count + 1, last_bounce_at = \(now), updated_at = \(now)
                    WHERE id = \(subscriberID)
                    """,
                    on: connection)
            }
            if let day, source == "inbound" {
                let moved = try await database.run(
                    """
                    UPDATE delivery SET state = 'bounced', last_code = \(event.replyCode.flatMap { Int64($0) }),
                        last_reply = \(event.diagnostic ?? event.status), updated_at = \(now)
                    WHERE day = \(day.description) AND subscriber_id = \(subscriberID) AND state IN ('sent', 'bounced') RETURNING 1
                    """,
                    on: connection)
                deliveryBounced = !moved.isEmpty
            }
            if row.bounceScore >= policy.threshold, row.fields.status == SubscriberStatus.active.rawValue {
                try await PostgresSubscriberStore.apply(SubscriberChange(status: .bounced), to: &row, source: .bounce, database, connection)
            }
        case .complaint, .unsubscribe:
            if row.fields.status != SubscriberStatus.unsubscribed.rawValue {
                try await PostgresSubscriberStore.apply(SubscriberChange(status: .unsubscribed), to: &row, source: .bounce, database, connection)
            }
        case .delayed, .autoReply:
            break
        }
        try await database.run(
            """
            INSERT INTO bounce_event (subscriber_id, day, kind, source, weight, status, reply_code, diagnostic, feedback_type, created_at)
            VALUES (\(subscriberID), \(day?.description), \(event.kind.rawValue), \(source), \(weight), \(event.status), \(event.replyCode),
                    \(event.diagnostic.map { String($0.prefix(1000)) }), \(event.feedbackType), \(now))
            """,
            on: connection)
        return BounceRecording.Applied(
            subscriberID: subscriberID, email: row.email, kind: event.kind, day: day, scoreBefore: before, scoreAfter: row.bounceScore,
            statusAfter: SubscriberStatus(rawValue: row.fields.status) ?? .paused, deliveryBounced: deliveryBounced)
    }

    /// The subscriber and digest an event names, as ``BounceStore`` resolves them: a quoted
    /// Message-ID names a day only if that delivery really carried it.
    private static func resolve(
        _ target: BounceEvent.Target, _ database: PostgresDatabase, _ connection: PostgresConnection
    ) async throws -> (Int64, Day?)? {
        switch target {
        case .subscriber(let id, let day):
            return (id, day)
        case .address(let text, let messageID):
            guard let address = try? EmailAddress(text),
                let row = try await PostgresSubscriberStore.stored(address, locked: false, database, connection)
            else { return nil }
            var day: Day?
            if let messageID, let named = BounceStore.day(namedIn: messageID, subscriberID: row.id) {
                let carried = try await database.run(
                    "SELECT 1 FROM delivery WHERE day = \(named.description) AND subscriber_id = \(row.id) AND message_id = \(messageID)",
                    on: connection)
                day = carried.isEmpty ? nil : named
            }
            return (row.id, day)
        }
    }
}
