import Foundation
import GRDB
import PaperPostCore
import PaperPostStore
import PostgresNIO
import PostgresStore
import TestSupport
import Testing

extension Backend {
    /// A log with `subscribers` active readers, ids 1…n, address `rN@example.com`.
    func withLog(subscribers: Int, _ body: (any DeliveryLog, _ sql: @escaping @Sendable (String) async throws -> Void) async throws -> Void)
        async throws
    {
        let insert = """
            INSERT INTO subscriber (id, email, email_key, language, status, secret, created_at, updated_at)
            SELECT n, 'r' || n || '@example.com', 'r' || n || '@example.com', 'en', 'active', 'k', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'
            FROM generate_series(1, \(subscribers)) AS n
            """
        switch self {
        case .sqlite:
            try await withTemporaryDirectory { directory in
                let path = directory.appendingPathComponent("paperpost.sqlite").path
                let database = try PaperPostDatabase.open(path: path)
                let raw = try DatabaseQueue(path: path)
                let sql: @Sendable (String) async throws -> Void = { statement in try await raw.write { try $0.execute(sql: statement) } }
                try await sql(
                    insert.replacingOccurrences(of: "generate_series(1, \(subscribers)) AS n", with: "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < \(subscribers)) SELECT n FROM s)"))
                try await body(DeliveryStore(database: database), sql)
            }
        case .postgres:
            let url = try await TestPostgres.newDatabase()
            try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: url)) { (database) async throws -> Void in
                let sql: @Sendable (String) async throws -> Void = { statement in
                    try await TestPostgres.withConnection(to: url) { connection in
                        _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: .init(label: "test")).collect()
                    }
                }
                try await sql(insert)
                try await body(PostgresDeliveryStore(database: database), sql)
            }
        }
    }
}

@Suite("the delivery log, on SQLite and on PostgreSQL")
struct DeliveryLogTests {
    let day = try! Day(parsing: "2026-02-21")
    let policy = BouncePolicy(threshold: 1, resetDays: 30)

    func queue(_ log: any DeliveryLog, _ count: Int) async throws {
        let added = try await log.enqueue(
            day: day, queued: (1...Int64(count)).map { ($0, "r\($0)@example.com") }, skipped: [])
        #expect(added == count)
        #expect(try await log.enqueue(day: day, queued: [(1, "r1@example.com")], skipped: [(2, "r2@example.com", "paused")]) == 0, "a rerun adds nobody twice")
    }

    func commit(_ log: any DeliveryLog, _ entries: [LogEntry], _ lease: LeaseToken) async throws -> [ClaimDecision] {
        let policy = self.policy
        return try await onOwnThread { Result { try log.commit(entries, lease: lease, leaseDuration: 60, bouncePolicy: policy) } }.get()
    }

    func sent(_ row: DueDelivery, relay: String? = nil) -> LogEntry {
        .outcome(DeliveryOutcome(day: row.day, subscriberID: row.subscriberID, result: .sent(code: 250, reply: "ok", messageID: "<m\(row.subscriberID)>", bytes: 100), relay: relay))
    }

    @Test("two senders reserve disjoint rows, cannot claim each other's, and their outcomes add up", arguments: Backend.allCases)
    func twoSenders(backend: Backend) async throws {
        try await backend.withLog(subscribers: 32) { log, _ in
            try await queue(log, 30)
            #expect(try await log.countDue(day: day, includeDeferred: false, only: nil) == 30)
            #expect(try await log.countDue(day: day, includeDeferred: false, only: 7) == 1)
            #expect(try await log.countUnlogged(day: day, among: RecipientFilter()) == 2, "readers 31 and 32 have no row yet")
            #expect(try await log.countUnlogged(day: day, among: RecipientFilter(schedules: [.daily], address: try EmailAddress("r31@example.com"))) == 1)
            #expect(try await log.countUnlogged(day: day, among: RecipientFilter(statuses: [.paused])) == 0)
            #expect(try await log.logged(day: day, ids: [1, 31, 30]) == [1, 30])
            let a = try await log.acquireLease(day: day, owner: "host-a", duration: 60)
            let b = try await log.acquireLease(day: day, owner: "host-b", duration: 60)
            #expect(try await log.senders(day: day).map(\.owner) == ["host-a", "host-b"])

            let first = try await log.reserve(a, after: 0, through: .max, limit: 10, includeDeferred: false, only: nil, now: Date())
            let second = try await log.reserve(b, after: 0, through: .max, limit: 10, includeDeferred: false, only: nil, now: Date())
            #expect(first.map(\.subscriberID) == Array(1...10))
            #expect(second.map(\.subscriberID) == Array(11...20), "b skips the rows a holds")

            let decisions = try await commit(log, first.map { .claim($0) } + [.claim(second[0])], a)
            #expect(decisions.prefix(10).allSatisfy { $0 == .send })
            #expect(decisions.last == .withhold("reserved by another send (host-b)"))
            _ = try await commit(log, first.map { sent($0, relay: "mx1") }, a)
            _ = try await commit(log, second.map { .claim($0) }, b)
            _ = try await commit(log, second.map { sent($0) }, b)

            let stats = Dictionary(uniqueKeysWithValues: try await log.stats(day: day).map { ($0.0, $0.1) })
            #expect(stats[.sent] == 20 && stats[.queued] == 10)
            let (free, others) = try await log.outstanding(a, includeDeferred: false, only: nil, now: Date())
            #expect(free == 10 && !others)
            let rows = try await log.deliveries(day: day, state: .sent, email: nil)
            #expect(rows.count == 20)
            #expect(rows.first { $0.subscriberID == 1 }?.sender == "host-a" && rows.first { $0.subscriberID == 1 }?.relay == "mx1")
            #expect(rows.first { $0.subscriberID == 11 }?.sender == "host-b")
            #expect(rows.allSatisfy { $0.attempts == 1 && $0.sentAt != nil && $0.messageID == "<m\($0.subscriberID)>" })

            let relays = try await log.statsByRelay(day: day).map { "\($0.0 ?? "-") \($0.1.rawValue) \($0.2)" }
            #expect(relays == ["- queued 10", "- sent 10", "mx1 sent 10"], "no relay first, as SQLite orders it")
            #expect(try await log.statsByRelay(day: day.adding(days: 1)).isEmpty)
            // Paged across two days, as `paperpost deliveries` lists: newest day first, then by reader.
            _ = try await log.enqueue(day: day.adding(days: 1), queued: [(2, "r2@example.com"), (1, "r1@example.com")], skipped: [])
            var pages: [[Delivery]] = []
            try await log.forEachDeliveryPage(pageSize: 7) { pages.append($0) }
            let listed = pages.flatMap { $0 }.map { "\($0.day) \($0.subscriberID)" }
            #expect(pages.map(\.count) == [7, 7, 7, 7, 4])
            #expect(listed == ["\(day.adding(days: 1)) 1", "\(day.adding(days: 1)) 2"] + (1...30).map { "\(day) \($0)" })
            #expect(try await log.deliveries(day: nil, state: .queued, email: try EmailAddress("R2@example.com")).map(\.day) == [day.adding(days: 1)])
        }
    }

    @Test("a takeover fences the expired sender, resends what it left sending, and frees what it reserved", arguments: Backend.allCases)
    func takeover(backend: Backend) async throws {
        try await backend.withLog(subscribers: 12) { log, _ in
            try await queue(log, 12)
            let a = try await log.acquireLease(day: day, owner: "host-a", duration: 60)
            let held = try await log.reserve(a, after: 0, through: .max, limit: 6, includeDeferred: false, only: nil, now: Date())
            _ = try await commit(log, held.prefix(2).map { .claim($0) }, a)

            let b = try await log.acquireLease(day: day, owner: "host-b", duration: 60)
            let notYet = try await log.takeOver(day: day, owner: "host-b", isAbandoned: { _ in false }, resend: true, now: Date())
            #expect(notYet.uncertain.isEmpty && notYet.freed == 0, "a live lease is left alone")
            let (uncertain, freed) = try await log.takeOver(
                day: day, owner: "host-b", isAbandoned: { _ in false }, resend: true, now: Date().addingTimeInterval(120))
            #expect(uncertain.map(\.subscriberID).sorted() == [1, 2])
            #expect(freed == 4)

            #expect(throws: DeliveryStoreError.self, "the old sender writes nothing more") {
                try log.commit([sent(held[0]), .claim(held[3])], lease: a, leaseDuration: 60, bouncePolicy: policy)
            }
            await #expect(throws: DeliveryStoreError.self) {
                try await log.reserve(a, after: 0, through: .max, limit: 6, includeDeferred: false, only: nil, now: Date())
            }
            let rest = try await log.reserve(b, after: 0, through: .max, limit: 100, includeDeferred: false, only: nil, now: Date())
            #expect(rest.map(\.subscriberID) == Array(1...12), "everything, the two uncertain rows included")
            #expect(rest.first?.attempts == 1)
            try await log.releaseLease(b)
            #expect(try await log.senders(day: day).isEmpty)
            let (free, _) = try await log.outstanding(b, includeDeferred: false, only: nil, now: Date())
            #expect(free == 12, "a sender leaving gives its reservations back")
        }
    }

    @Test("a reader who unsubscribed during the send is not mailed; a hard bounce counts and, at the threshold, marks them bounced", arguments: Backend.allCases)
    func readersChangeMidSend(backend: Backend) async throws {
        try await backend.withLog(subscribers: 3) { log, sql in
            try await queue(log, 3)
            let a = try await log.acquireLease(day: day, owner: "host-a", duration: 60)
            let rows = try await log.reserve(a, after: 0, through: .max, limit: 3, includeDeferred: false, only: nil, now: Date())
            try await sql("UPDATE subscriber SET status = 'unsubscribed' WHERE id = 2")
            let decisions = try await commit(log, rows.map { .claim($0) }, a)
            #expect(decisions == [.send, .withhold("unsubscribed during the send"), .send])
            let bounce = DeliveryOutcome(day: day, subscriberID: 3, result: .failed(code: 550, reply: "550 5.1.1 no such user", bounce: true))
            let deferral = DeliveryOutcome(
                day: day, subscriberID: 1, result: .deferred(code: 451, reply: "451 try later", nextAttempt: Date().addingTimeInterval(600)))
            _ = try await commit(log, [.outcome(bounce), .outcome(deferral)], a)

            let all = try await log.deliveries(day: day, state: nil, email: nil)
            #expect(all.map(\.state) == [.deferred, .skipped, .failed])
            #expect(all[0].nextAttemptAt != nil && all[2].lastCode == 550)
            let bounced = try await log.deliveries(day: nil, state: nil, email: try EmailAddress("r3@example.com"))
            #expect(bounced.map(\.subscriberID) == [3])
            let again = try await log.reserve(a, after: 0, through: .max, limit: 3, includeDeferred: true, only: nil, now: Date())
            #expect(again.map(\.subscriberID) == [1], "the deferred row, once deferred rows count, and still this sender's")
            #expect(again.first?.attempts == 1)
            #expect(try await log.deferQueued(a, reason: "circuit breaker", until: Date()) == 0)

            // The bounce reached the threshold (1 here): the next day's send withholds the reader.
            let next = try Day(parsing: "2026-02-22")
            _ = try await log.enqueue(day: next, queued: [(3, "r3@example.com")], skipped: [])
            let tomorrow = try await log.acquireLease(day: next, owner: "host-a", duration: 60)
            let due = try await log.reserve(tomorrow, after: 0, through: .max, limit: 3, includeDeferred: false, only: nil, now: Date())
            #expect(try await commit(log, due.map { .claim($0) }, tomorrow) == [.withhold("bounced during the send")])

            // Per digest, newest first: the SMTP hard bounce is the day's; complaints and soft
            // bounces come from `inbound`, and there are none.
            let stats = try await log.bounceStats(day: nil)
            #expect(stats.map(\.day) == [next, day])
            #expect(stats[1].delivered == 0 && stats[1].hardBounces == 1 && stats[1].softBounces == 0 && stats[1].complaints == 0)
            #expect(try await log.bounceStats(day: next).map(\.hardBounces) == [0])
        }
    }
}

@Suite("the delivery log on PostgreSQL, under concurrency")
struct PostgresDeliveryConcurrencyTests {
    @Test("eight senders reserving at once, on their own connections, take every row exactly once")
    func concurrentReservations() async throws {
        try await Backend.postgres.withLog(subscribers: 400) { log, _ in
            let day = try Day(parsing: "2026-02-21")
            _ = try await log.enqueue(day: day, queued: (1...400).map { ($0, "r\($0)@example.com") }, skipped: [])
            let taken = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for sender in 0..<8 {
                    group.addTask {
                        let lease = try await log.acquireLease(day: day, owner: "host-\(sender)", duration: 60)
                        var mine: [Int64] = []
                        while true {
                            let rows = try await log.reserve(lease, after: 0, through: .max, limit: 7, includeDeferred: false, only: nil, now: Date())
                            let fresh = rows.map(\.subscriberID).filter { !mine.contains($0) }
                            if fresh.isEmpty { return mine }
                            mine += fresh
                            // Done with them: the next reservation must not return them again.
                            _ = try await (log as! PostgresDeliveryStore).commitAsync(
                                rows.map { .claim($0) }, lease: lease, leaseDuration: 60, bouncePolicy: BouncePolicy())
                        }
                    }
                }
                var all: [[Int64]] = []
                for try await rows in group { all.append(rows) }
                return all
            }
            let flat = taken.flatMap { $0 }
            #expect(flat.count == 400 && Set(flat).count == 400, "every row once")
        }
    }
}
