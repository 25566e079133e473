import Foundation
import GRDB
import PaperPostCore
@testable import PaperPostStore
import TestSupport
import Testing

@Suite("Bounce score and inbound records")
struct BounceStoreTests {
    static let day = Day(year: 2026, month: 2, day: 20)!
    static let start = Date(timeIntervalSince1970: 1_771_545_600)

    func subscriber(_ store: SubscriberStore, _ email: String) async throws -> Subscriber {
        try await store.add(
            NewSubscriber(email: try EmailAddress(email), name: nil, categories: ["cs.AI"], language: .en, status: .active), source: .cli)
    }

    func soft(_ id: Int64) -> BounceEvent { BounceEvent(target: .subscriber(id: id, day: Self.day), kind: .soft, diagnostic: "552 full") }
    func hard(_ id: Int64) -> BounceEvent { BounceEvent(target: .subscriber(id: id, day: Self.day), kind: .hard, diagnostic: "550 5.1.1") }

    @Test("hard adds 1, soft 0.5, one bounce a day, the score resets after a quiet period, and the threshold bounces the subscriber")
    func score() async throws {
        try await withTemporaryStore { store, _ in
            let bounces = BounceStore(database: store.database)
            let reader = try await subscriber(store, "reader@example.com")
            let policy = BouncePolicy(threshold: 2, resetDays: 30)
            func record(_ event: BounceEvent, dayOffset: Double, key: String) async throws -> BounceRecording.Applied? {
                try await bounces.record(
                    messageDigest: key, kind: "bounce", summary: nil, events: [event], policy: policy,
                    now: Self.start.addingTimeInterval(dayOffset * 86_400)
                ).applied.first
            }
            #expect(try await record(soft(reader.id), dayOffset: 0, key: "a")?.scoreAfter == 0.5)
            // The same day: counted once.
            #expect(try await record(hard(reader.id), dayOffset: 0.1, key: "b")?.scoreAfter == 0.5)
            #expect(try await record(hard(reader.id), dayOffset: 1, key: "c")?.scoreAfter == 1.5)
            // 31 quiet days: the score starts again from zero.
            #expect(try await record(soft(reader.id), dayOffset: 32, key: "d")?.scoreAfter == 0.5)
            #expect(try await store.get(try EmailAddress("reader@example.com")).status == .active)
            let last = try await record(hard(reader.id), dayOffset: 33, key: "e")
            #expect(last?.scoreAfter == 1.5)
            let bounced = try await record(hard(reader.id), dayOffset: 34, key: "f")
            #expect(bounced?.scoreAfter == 2.5)
            #expect(bounced?.statusAfter == .bounced)
            // The same message again changes nothing.
            let again = try await bounces.record(
                messageDigest: "f", kind: "bounce", summary: nil, events: [hard(reader.id)], policy: policy, now: Self.start)
            #expect(again.duplicate && again.applied.isEmpty)
            #expect(try await bounces.events(subscriberID: reader.id).count == 6)
        }
    }

    @Test("a v6 database keeps its deliveries and hard bounces through the v7 migration, as events and a score")
    func migration() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("old.sqlite").path
            let pool = try DatabasePool(path: path)
            try PaperPostDatabase.migrator.migrate(pool, upTo: "v6: probe calls in the ledger")
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO subscriber (id, email, email_key, language, status, secret, bounce_count, created_at, updated_at)
                        VALUES (1, 'a@example.com', 'a@example.com', 'en', 'active', 'x', 2, '2026-02-01', '2026-02-01')
                        """)
                for day in ["2026-02-19", "2026-02-20"] {
                    try db.execute(
                        sql: "INSERT INTO delivery (day, subscriber_id, email, state, created_at, updated_at) VALUES (?, 1, 'a@example.com', 'failed', ?, ?)",
                        arguments: [day, day, day])
                    try db.execute(
                        sql: "INSERT INTO bounce (subscriber_id, day, reply, created_at) VALUES (1, ?, '550 5.1.1 unknown', ?)", arguments: [day, day])
                }
            }
            try pool.close()
            let database = try PaperPostDatabase.open(path: path)
            let (failed, events, score, last) = try await database.writer.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM delivery WHERE state = 'failed'"),
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bounce_event WHERE kind = 'hard' AND source = 'smtp'"),
                    try Double.fetchOne(db, sql: "SELECT bounce_score FROM subscriber WHERE id = 1"),
                    try String.fetchOne(db, sql: "SELECT last_bounce_at FROM subscriber WHERE id = 1")
                )
            }
            #expect(failed == 2)
            #expect(events == 2)
            #expect(score == 2)
            #expect(last == "2026-02-20")
        }
    }

    @Test("a bounce quoting a digest's Message-ID is filed under that digest's day; a forged or foreign ID names no day")
    func dayFromMessageID() async throws {
        try await withTemporaryStore { store, _ in
            let reader = try await subscriber(store, "reader@example.com")
            let other = try await subscriber(store, "other@example.com")
            let deliveries = DeliveryStore(database: store.database)
            try await deliveries.enqueue(day: Self.day, queued: [(reader.id, "reader@example.com"), (other.id, "other@example.com")], skipped: [])
            let sent = "<\(Self.day).\(reader.id).00112233aabbccdd@digest.example.org>"
            try await deliveries.record(
                [DeliveryOutcome(day: Self.day, subscriberID: reader.id, result: .sent(code: 250, reply: "250 ok", messageID: sent, bytes: 100))],
                bouncePolicy: BouncePolicy())
            let bounces = BounceStore(database: store.database)
            func filedDay(_ address: String, _ messageID: String?, key: String) async throws -> Day? {
                let event = BounceEvent(target: .address(address, originalMessageID: messageID), kind: .delayed, diagnostic: "4.2.2")
                let recording = try await bounces.record(
                    messageDigest: key, kind: "bounce", summary: nil, events: [event], policy: BouncePolicy(), now: Self.start)
                #expect(recording.applied.count == 1)
                return recording.applied.first?.day
            }
            #expect(try await filedDay("reader@example.com", sent, key: "a") == Self.day)
            // Another day, another reader's ID, a tag that was never sent, a foreign ID: no day.
            #expect(try await filedDay("reader@example.com", "<2026-02-19.\(reader.id).00112233aabbccdd@digest.example.org>", key: "b") == nil)
            #expect(try await filedDay("other@example.com", sent, key: "c") == nil)
            #expect(try await filedDay("reader@example.com", "<\(Self.day).\(reader.id).ffffffffffffffff@digest.example.org>", key: "d") == nil)
            #expect(try await filedDay("reader@example.com", "<CAByYQsEX_JRXGPsXSPPDkp_7Rc@mail.gmail.com>", key: "e") == nil)
            #expect(try await filedDay("reader@example.com", nil, key: "f") == nil)
        }
    }

    @Test("the delivery log has no secondary index to rewrite on every send, and the sender's reads use its primary key")
    func deliveryLogIndexes() async throws {
        try await withTemporaryStore { store, _ in
            let (indexes, plans) = try await store.database.writer.read { db in
                (
                    try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'delivery' AND sql IS NOT NULL"),
                    try [
                        "SELECT subscriber_id FROM delivery WHERE day = '2026-02-20' AND subscriber_id > 5 AND state = 'queued' ORDER BY subscriber_id LIMIT 8",
                        "SELECT 1 FROM delivery WHERE day = '2026-02-20' AND state = 'sending'",
                        "UPDATE delivery SET state = 'sent' WHERE day = '2026-02-20' AND subscriber_id = 5",
                    ].map { try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + $0).map { $0["detail"] as String }.joined(separator: "; ") }
                )
            }
            #expect(indexes.isEmpty)
            for plan in plans {
                #expect(plan.contains("sqlite_autoindex_delivery_1") && !plan.contains("TEMP B-TREE"), "\(plan)")
            }
        }
    }
}
