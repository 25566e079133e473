import Foundation
import GRDB
import PaperPostCore

/// A row that is due to be sent: what the sender needs, nothing more (read ahead in bulk).
public struct DueDelivery: Sendable, Hashable {
    public var day: Day
    public var subscriberID: Int64
    public var email: String
    /// Attempts made before this one.
    public var attempts: Int

    public init(day: Day, subscriberID: Int64, email: String, attempts: Int) {
        self.day = day
        self.subscriberID = subscriberID
        self.email = email
        self.attempts = attempts
    }
}

/// How one attempt ended, to be written to the delivery log.
public struct DeliveryOutcome: Sendable {
    public enum Result: Sendable {
        case sent(code: Int?, reply: String?, messageID: String, bytes: Int)
        case deferred(code: Int?, reply: String, nextAttempt: Date)
        /// `bounce`: the address does not exist (a hard bounce), which counts toward marking the subscriber bounced.
        case failed(code: Int?, reply: String, bounce: Bool)
        case skipped(reason: String)
    }

    public var day: Day
    public var subscriberID: Int64
    public var result: Result
    /// The relay that answered, when a relay did.
    public var relay: String?

    public init(day: Day, subscriberID: Int64, result: Result, relay: String? = nil) {
        self.relay = relay
        self.day = day
        self.subscriberID = subscriberID
        self.result = result
    }
}

/// A sender's hold on a day's send: who, and which acquisition (a takeover bumps the generation).
public struct LeaseToken: Sendable, Equatable {
    public var day: Day
    public var owner: String
    public var generation: Int64

    public init(day: Day, owner: String, generation: Int64) {
        self.day = day
        self.owner = owner
        self.generation = generation
    }
}

/// What a sender writes to the log in a group commit.
public enum LogEntry: Sendable {
    /// Move a due row to `sending` right before its message is handed over.
    case claim(DueDelivery)
    case outcome(DeliveryOutcome)
}

/// Whether a claimed row's message may be handed over.
public enum ClaimDecision: Sendable, Equatable {
    case send
    /// Not this message: the reader unsubscribed or bounced meanwhile, or the row was handled.
    case withhold(String)
}

public enum DeliveryStoreError: Error, Sendable, CustomStringConvertible {
    /// Another sender took the day's lease over (this one was paused or too slow to renew it).
    case leaseLost(day: Day, holder: String?)

    public var description: String {
        switch self {
        case .leaseLost(let day, let holder):
            "this send lost its lease on \(day)'s digest"
                + (holder.map { " to another send (\($0))" } ?? "")
                + " (it was paused or stalled past it, and another send took its rows over) and stopped. "
                + "Run 'paperpost deliveries --date \(day)' to see the log"
        }
    }
}

/// The delivery log and the send lease.
public struct DeliveryStore: Sendable {
    let database: PaperPostDatabase

    public init(database: PaperPostDatabase) {
        self.database = database
    }

    /// Joins the day's send: a lease of this sender's own, beside those of any other senders of
    /// the same digest. It is renewed by every commit and a heartbeat; once it has expired (or
    /// its process is gone) another sender may take it over with ``takeOver(day:owner:isAbandoned:resend:now:)``,
    /// which deletes it and so fences this sender off the log.
    public func acquireLease(day: Day, owner: String, duration: TimeInterval) async throws -> LeaseToken {
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO send_lease (day, owner, expires_at, generation) VALUES (?, ?, ?, 1)",
                arguments: [day.description, owner, Date().addingTimeInterval(duration)])
            return LeaseToken(day: day, owner: owner, generation: 1)
        }
    }

    /// The senders of a day's digest and their leases' expiry.
    public func senders(day: Day) async throws -> [(owner: String, expiresAt: Date)] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT owner, expires_at FROM send_lease WHERE day = ? ORDER BY owner", arguments: [day.description])
                .map { ($0["owner"], $0["expires_at"]) }
        }
    }

    /// Extends the lease; `false` if it was lost (expired and taken by another sender).
    @discardableResult
    public func renewLease(_ lease: LeaseToken, duration: TimeInterval) async throws -> Bool {
        try await database.write { db in
            try Self.renew(lease, duration: duration, db)
        }
    }

    /// Leaves the send: the rows this sender reserved but did not claim go back to the others.
    public func releaseLease(_ lease: LeaseToken) async throws {
        try await database.write { db in
            let held = try Self.holds(lease, db)
            try db.execute(
                sql: "DELETE FROM send_lease WHERE day = ? AND owner = ? AND generation = ?",
                arguments: [lease.day.description, lease.owner, lease.generation])
            if held {
                try db.execute(
                    sql: "UPDATE delivery SET sender = NULL WHERE day = ? AND sender = ? AND state IN ('queued', 'deferred')",
                    arguments: [lease.day.description, lease.owner])
            }
        }
    }

    private static func holds(_ lease: LeaseToken, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT 1 FROM send_lease WHERE day = ? AND owner = ? AND generation = ?",
            arguments: [lease.day.description, lease.owner, lease.generation]) ?? false
    }

    /// Takes over the senders of the day whose lease has expired or whose process `isAbandoned`
    /// recognises as gone, in one transaction: their leases are deleted (which fences them off
    /// the log, should they resume), the rows they reserved go back to everyone, and the rows
    /// they left `sending` (their messages' fate unknown) are sent again (`resend`) or marked
    /// failed ("uncertain after crash"). Rows left `sending` by no sender at all (a crash before
    /// several senders existed) count as uncertain too.
    ///
    /// - Returns: the uncertain rows as they were, and how many reserved rows were freed.
    public func takeOver(
        day: Day, owner: String, isAbandoned: @escaping @Sendable (String) -> Bool = { _ in false }, resend: Bool, now: Date = Date()
    ) async throws -> (uncertain: [Delivery], freed: Int) {
        try await database.write { db in
            let dayText = day.description
            let leases = try Row.fetchAll(db, sql: "SELECT owner, expires_at FROM send_lease WHERE day = ?", arguments: [dayText])
            let gone = leases.filter { row in
                let holder: String = row["owner"]
                let until: Date = row["expires_at"]
                return holder != owner && (until < now || isAbandoned(holder))
            }.map { $0["owner"] as String }
            var freed = 0
            for holder in gone {
                try db.execute(sql: "DELETE FROM send_lease WHERE day = ? AND owner = ?", arguments: [dayText, holder])
                try db.execute(
                    sql: "UPDATE delivery SET sender = NULL WHERE day = ? AND sender = ? AND state IN ('queued', 'deferred')",
                    arguments: [dayText, holder])
                freed += db.changesCount
            }
            // Rows `sending` for a sender that holds no lease any more.
            let orphaned = "day = ? AND state = 'sending' AND (sender IS NULL OR sender NOT IN (SELECT owner FROM send_lease WHERE day = ?))"
            let rows = try Self.deliveries(db, orphaned, [dayText, dayText])
            try db.execute(
                sql: resend
                    ? "UPDATE delivery SET state = 'queued', sender = NULL, updated_at = ? WHERE " + orphaned
                    : "UPDATE delivery SET state = 'failed', last_reply = 'uncertain after crash', updated_at = ? WHERE " + orphaned,
                arguments: [now, dayText, dayText])
            return (rows, freed)
        }
    }

    /// What is left of a day's send for a sender that found nothing more to reserve: due rows
    /// nobody holds (a sender that stopped gave them back), and whether other senders still
    /// hold rows (reserved or `sending`), which are theirs unless they die.
    public func outstanding(
        _ lease: LeaseToken, includeDeferred: Bool, only: Int64? = nil, now: Date = Date()
    ) async throws -> (free: Int, heldByOthers: Bool) {
        try await database.read { db in
            let dayText = lease.day.description
            var sql = """
                SELECT COUNT(*) FROM delivery WHERE day = ? AND sender IS NULL
                AND (state = 'queued' OR (state = 'deferred' AND (? OR next_attempt_at <= ?)))
                """
            var arguments: StatementArguments = [dayText, includeDeferred, now]
            if let only {
                sql += " AND subscriber_id = ?"
                arguments += [only]
            }
            let free = try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
            var held = """
                SELECT EXISTS (SELECT 1 FROM delivery WHERE day = ? AND sender IS NOT NULL AND sender != ?
                AND state IN ('queued', 'deferred', 'sending')
                """
            var heldArguments: StatementArguments = [dayText, lease.owner]
            if let only {
                held += " AND subscriber_id = ?"
                heldArguments += [only]
            }
            let others = try Bool.fetchOne(db, sql: held + ")", arguments: heldArguments) ?? false
            return (free, others)
        }
    }

    private static func renew(_ lease: LeaseToken, duration: TimeInterval, _ db: Database) throws -> Bool {
        try db.cachedStatement(sql: "UPDATE send_lease SET expires_at = ? WHERE day = ? AND owner = ? AND generation = ?")
            .execute(arguments: [Date().addingTimeInterval(duration), lease.day.description, lease.owner, lease.generation])
        return db.changesCount == 1
    }

    /// Writes a sender's claims and outcomes in one transaction (a group commit), in the order
    /// given, after checking that `lease` still holds: a sender that lost its lease writes
    /// nothing and learns so from ``DeliveryStoreError/leaseLost(day:holder:)``.
    ///
    /// A claim moves a due row to `sending` (counting the attempt) only while its subscriber is
    /// still active, so an unsubscribe or a bounce recorded during a send stops a message that
    /// has not gone out; such a row becomes `skipped`. The lease is extended in the same
    /// transaction, so a busy sender needs no separate heartbeat.
    ///
    /// - Returns: one decision per claim, in order.
    ///
    /// Blocks the calling thread: it is meant for a writer with a thread of its own.
    public func commit(
        _ entries: [LogEntry], lease: LeaseToken, leaseDuration: TimeInterval, bouncePolicy: BouncePolicy
    ) throws -> [ClaimDecision] {
        try database.writeBlocking { db in
            let date = Date()
            let now = date.fastDatabaseValue
            // The fence is a read; the expiry is written only once a fifth of the lease has
            // passed. Compared as text (the stored format sorts by time), to spare a date parse.
            let due = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT expires_at < ? FROM send_lease WHERE day = ? AND owner = ? AND generation = ?"),
                arguments: [date.addingTimeInterval(leaseDuration * 0.8).fastDatabaseValue, lease.day.description, lease.owner, lease.generation])
            guard let due else {
                throw DeliveryStoreError.leaseLost(day: lease.day, holder: nil)
            }
            if due {
                _ = try Self.renew(lease, duration: leaseDuration, db)
            }
            var decisions: [ClaimDecision] = []
            let check = try db.cachedStatement(
                sql: """
                    SELECT delivery.state, subscriber.status, delivery.sender FROM delivery LEFT JOIN subscriber ON subscriber.id = delivery.subscriber_id
                    WHERE delivery.day = ? AND delivery.subscriber_id = ?
                    """)
            // The usual case in one statement; only a claim it refuses reads why.
            let sending = try db.cachedStatement(
                sql: """
                    UPDATE delivery SET state = 'sending', attempts = attempts + 1, updated_at = ?, sender = ?
                    WHERE day = ? AND subscriber_id = ? AND state IN ('queued', 'deferred') AND (sender IS NULL OR sender = ?)
                    AND EXISTS (SELECT 1 FROM subscriber WHERE subscriber.id = delivery.subscriber_id AND subscriber.status = 'active')
                    """)
            for entry in entries {
                switch entry {
                case .claim(let row):
                    let key: StatementArguments = [row.day.description, row.subscriberID]
                    try sending.execute(arguments: [now, lease.owner] + key + [lease.owner])
                    if db.changesCount == 1 {
                        decisions.append(.send)
                        continue
                    }
                    guard let current = try Row.fetchOne(check, arguments: key) else {
                        decisions.append(.withhold("no longer in the delivery log"))
                        continue
                    }
                    let state: String = current[0]
                    let status: String? = current[1]
                    guard state == "queued" || state == "deferred" else {
                        decisions.append(.withhold("already \(state)"))
                        continue
                    }
                    if let holder: String = current[2], holder != lease.owner {
                        decisions.append(.withhold("reserved by another send (\(holder))"))
                        continue
                    }
                    guard status == SubscriberStatus.active.rawValue else {
                        let reason = "\(status ?? "removed") during the send"
                        try db.execute(
                            sql: "UPDATE delivery SET state = 'skipped', last_reply = ?, next_attempt_at = NULL, updated_at = ? WHERE day = ? AND subscriber_id = ?",
                            arguments: [reason, now] + key)
                        decisions.append(.withhold(reason))
                        continue
                    }
                    decisions.append(.withhold("could not be claimed"))
                case .outcome(let outcome):
                    try Self.write(outcome, db, now: now, date: date, bouncePolicy: bouncePolicy)
                }
            }
            return decisions
        }
    }

    /// Adds a row for every subscriber not yet in the day's log: `queued` for those to mail,
    /// `skipped` with the reason for the others. Existing rows are left as they are, so a rerun
    /// never queues anyone twice. Returns how many rows were added.
    @discardableResult
    public func enqueue(day: Day, queued: [(id: Int64, email: String)], skipped: [(id: Int64, email: String, reason: String)]) async throws -> Int {
        try await database.write { db in
            // Formatted once: GRDB formats a Date per argument, which at 100,000 rows is seconds.
            let now = Date().databaseValue
            let dayText = day.description
            var added = 0
            let queue = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO delivery (day, subscriber_id, email, state, created_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?)")
            for (id, email) in queued {
                try queue.execute(arguments: [dayText, id, email, now, now])
                added += db.changesCount
            }
            let skip = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO delivery (day, subscriber_id, email, state, last_reply, created_at, updated_at)
                    VALUES (?, ?, ?, 'skipped', ?, ?, ?)
                    """)
            for (id, email, reason) in skipped {
                try skip.execute(arguments: [dayText, id, email, reason, now, now])
                added += db.changesCount
            }
            return added
        }
    }

    /// The next rows that are due, in subscriber order after `afterID`: queued ones, and deferred
    /// ones whose time has come (or all deferred ones with `includeDeferred`). Reads only: the
    /// sender holding the day's lease is the only one that changes these rows.
    public func due(
        day: Day, after afterID: Int64, through lastID: Int64 = .max, limit: Int, includeDeferred: Bool, only: Int64? = nil, now: Date = Date()
    ) async throws -> [DueDelivery] {
        try await database.read { db in
            var sql = """
                SELECT subscriber_id, email, attempts FROM delivery WHERE day = ? AND subscriber_id > ? AND subscriber_id <= ?
                AND (state = 'queued' OR (state = 'deferred' AND (? OR next_attempt_at <= ?)))
                """
            var arguments: StatementArguments = [day.description, afterID, lastID, includeDeferred, now]
            if let only {
                sql += " AND subscriber_id = ?"
                arguments += [only]
            }
            arguments += [max(0, limit)]
            return try Row.fetchAll(db.cachedStatement(sql: sql + " ORDER BY subscriber_id LIMIT ?"), arguments: arguments).map { row in
                DueDelivery(day: day, subscriberID: row[0], email: row[1], attempts: row[2])
            }
        }
    }

    /// Reserves the next due rows after `afterID` that no other sender holds, for `lease`'s
    /// sender: its read-ahead. Several senders of one digest so take disjoint rows; a claim
    /// then checks the reservation. A sender that lost its lease reserves nothing
    /// (``DeliveryStoreError/leaseLost(day:holder:)``).
    public func reserve(
        _ lease: LeaseToken, after afterID: Int64, through lastID: Int64 = .max, limit: Int, includeDeferred: Bool, only: Int64? = nil,
        now: Date = Date()
    ) async throws -> [DueDelivery] {
        try await database.write { db in
            guard try Self.holds(lease, db) else {
                throw DeliveryStoreError.leaseLost(day: lease.day, holder: nil)
            }
            let day = lease.day
            var sql = """
                SELECT subscriber_id, email, attempts FROM delivery WHERE day = ? AND subscriber_id > ? AND subscriber_id <= ?
                AND (state = 'queued' OR (state = 'deferred' AND (? OR next_attempt_at <= ?)))
                AND (sender IS NULL OR sender = ?)
                """
            var arguments: StatementArguments = [day.description, afterID, lastID, includeDeferred, now, lease.owner]
            if let only {
                sql += " AND subscriber_id = ?"
                arguments += [only]
            }
            arguments += [max(0, limit)]
            let rows = try Row.fetchAll(db.cachedStatement(sql: sql + " ORDER BY subscriber_id LIMIT ?"), arguments: arguments).map { row in
                DueDelivery(day: day, subscriberID: row[0], email: row[1], attempts: row[2])
            }
            if !rows.isEmpty {
                try db.execute(
                    sql: "UPDATE delivery SET sender = ? WHERE day = ? AND subscriber_id IN (\(databaseQuestionMarks(count: rows.count)))",
                    arguments: [lease.owner, day.description] + StatementArguments(rows.map(\.subscriberID)))
            }
            return rows
        }
    }

    /// How many subscribers the filter selects who have no row in the day's log yet.
    public func countUnlogged(day: Day, among filter: RecipientFilter) async throws -> Int {
        try await database.read { db in
            let (condition, arguments) = filter.condition
            return try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM subscriber s WHERE \(condition) AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.day = ? AND d.subscriber_id = s.id)",
                arguments: arguments + [day.description]) ?? 0
        }
    }

    /// Which of these subscribers already have a row in the day's log.
    public func logged(day: Day, ids: [Int64]) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await database.read { db in
            Set(try Int64.fetchAll(
                db, sql: "SELECT subscriber_id FROM delivery WHERE day = ? AND subscriber_id IN (\(databaseQuestionMarks(count: ids.count)))",
                arguments: [day.description] + StatementArguments(ids)))
        }
    }

    /// How many rows `due` would return in all (for progress and ETA).
    public func countDue(day: Day, includeDeferred: Bool, only: Int64? = nil, now: Date = Date()) async throws -> Int {
        try await database.read { db in
            var sql = "SELECT COUNT(*) FROM delivery WHERE day = ? AND (state = 'queued' OR (state = 'deferred' AND (? OR next_attempt_at <= ?)))"
            var arguments: StatementArguments = [day.description, includeDeferred, now]
            if let only {
                sql += " AND subscriber_id = ?"
                arguments += [only]
            }
            return try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
        }
    }

    /// Commits these rows as `sending`, counting the attempt, before their messages go on the
    /// wire: after a crash, exactly the rows still in `sending` are the uncertain ones.
    @discardableResult
    public func markSending(_ rows: [DueDelivery], now: Date = Date()) async throws -> [DueDelivery] {
        guard !rows.isEmpty else { return [] }
        return try await database.write { db in
            let statement = try db.cachedStatement(
                sql: "UPDATE delivery SET state = 'sending', attempts = attempts + 1, updated_at = ? WHERE day = ? AND subscriber_id = ?")
            let stamp = now.databaseValue
            for row in rows {
                try statement.execute(arguments: [stamp, row.day.description, row.subscriberID])
            }
            return rows.map { row in
                var row = row
                row.attempts += 1
                return row
            }
        }
    }

    /// `due` and `markSending` in one step, for callers that send what they take at once.
    @discardableResult
    public func claim(day: Day, limit: Int, includeDeferred: Bool, only: Int64? = nil, now: Date = Date()) async throws -> [DueDelivery] {
        try await markSending(try await due(day: day, after: 0, limit: limit, includeDeferred: includeDeferred, only: only, now: now), now: now)
    }

    /// Writes outcomes in one transaction. A hard bounce adds to the subscriber's bounce score
    /// (see ``BouncePolicy``).
    public func record(_ outcomes: [DeliveryOutcome], bouncePolicy: BouncePolicy, now date: Date = Date()) async throws {
        guard !outcomes.isEmpty else { return }
        try await database.write { db in
            let now = date.databaseValue
            for outcome in outcomes {
                try Self.write(outcome, db, now: now, date: date, bouncePolicy: bouncePolicy)
            }
        }
    }

    private static func write(_ outcome: DeliveryOutcome, _ db: Database, now: DatabaseValue, date: Date, bouncePolicy: BouncePolicy) throws {
        let key: StatementArguments = [outcome.day.description, outcome.subscriberID]
        switch outcome.result {
        case .sent(let code, let reply, let messageID, let bytes):
            try db.cachedStatement(
                sql: """
                    UPDATE delivery SET state = 'sent', last_code = ?, last_reply = ?, message_id = ?, bytes = ?,
                        next_attempt_at = NULL, sent_at = ?, updated_at = ?, relay = ? WHERE day = ? AND subscriber_id = ?
                    """
            ).execute(arguments: [code, reply, messageID, bytes, now, now, outcome.relay] + key)
        case .deferred(let code, let reply, let next):
            try db.cachedStatement(
                sql: "UPDATE delivery SET state = 'deferred', last_code = ?, last_reply = ?, next_attempt_at = ?, updated_at = ?, relay = ? WHERE day = ? AND subscriber_id = ?"
            ).execute(arguments: [code, reply, next, now, outcome.relay] + key)
        case .failed(let code, let reply, let bounce):
            try db.cachedStatement(
                sql: "UPDATE delivery SET state = 'failed', last_code = ?, last_reply = ?, next_attempt_at = NULL, updated_at = ?, relay = ? WHERE day = ? AND subscriber_id = ?"
            ).execute(arguments: [code, reply, now, outcome.relay] + key)
            if bounce {
                try BounceStore.recordSMTPBounce(
                    db, subscriberID: outcome.subscriberID, day: outcome.day, reply: reply, policy: bouncePolicy, now: date)
            }
        case .skipped(let reason):
            try db.cachedStatement(
                sql: "UPDATE delivery SET state = 'skipped', last_reply = ?, updated_at = ? WHERE day = ? AND subscriber_id = ?"
            ).execute(arguments: [reason, now] + key)
        }
    }

    /// Puts off the day's rows still `queued` that this sender holds or nobody does: a send that
    /// stopped early (the SMTP circuit breaker) leaves them for the next run after the retry
    /// delay, with the reason. Other senders' rows stay theirs.
    @discardableResult
    public func deferQueued(_ lease: LeaseToken, reason: String, until next: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE delivery SET state = 'deferred', last_reply = ?, next_attempt_at = ?, updated_at = ?, sender = NULL
                    WHERE day = ? AND state = 'queued' AND (sender IS NULL OR sender = ?)
                    """,
                arguments: [reason, next, Date(), lease.day.description, lease.owner])
            return db.changesCount
        }
    }

    public func deliveries(
        day: Day?, state: Delivery.State?, email: EmailAddress?, after: (day: Day, subscriberID: Int64)?, limit: Int
    ) async throws -> [Delivery] {
        try await database.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let day {
                conditions.append("day = ?")
                arguments += [day.description]
            }
            if let state {
                conditions.append("state = ?")
                arguments += [state.rawValue]
            }
            if let email {
                conditions.append("subscriber_id IN (SELECT id FROM subscriber WHERE email_key = ?)")
                arguments += [email.key]
            }
            if let after {
                conditions.append("(day < ? OR (day = ? AND subscriber_id > ?))")
                arguments += [after.day.description, after.day.description, after.subscriberID]
            }
            let condition = conditions.isEmpty ? "1" : conditions.joined(separator: " AND ")
            return try Self.deliveries(db, condition + " ORDER BY day DESC, subscriber_id LIMIT ?", arguments + [limit])
        }
    }

    /// Rows per state (every state listed, zeros included).
    public func stats(day: Day? = nil) async throws -> [(Delivery.State, Int)] {
        try await database.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT state, COUNT(*) AS n FROM delivery WHERE ? IS NULL OR day = ? GROUP BY state",
                arguments: [day?.description, day?.description])
            let counts = Dictionary(uniqueKeysWithValues: rows.map { ($0["state"] as String, $0["n"] as Int) })
            return Delivery.State.allCases.map { ($0, counts[$0.rawValue] ?? 0) }
        }
    }

    /// Rows per relay and state, the relays in order of name (`nil`: no relay answered yet, or
    /// the outbox).
    public func statsByRelay(day: Day?) async throws -> [(String?, Delivery.State, Int)] {
        try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT relay, state, COUNT(*) AS n FROM delivery WHERE ? IS NULL OR day = ? GROUP BY relay, state ORDER BY relay, state",
                arguments: [day?.description, day?.description]
            ).map { ($0["relay"], Delivery.State(rawValue: $0["state"]) ?? .failed, $0["n"]) }
        }
    }

    static func deliveries(_ db: Database, _ condition: String, _ arguments: StatementArguments) throws -> [Delivery] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM delivery WHERE " + condition), arguments: arguments).map { row in
            Delivery(
                day: try Day(parsing: row["day"]), subscriberID: row["subscriber_id"], email: row["email"],
                state: Delivery.State(rawValue: row["state"]) ?? .failed, attempts: row["attempts"], lastCode: row["last_code"],
                lastReply: row["last_reply"], messageID: row["message_id"], bytes: row["bytes"], nextAttemptAt: row["next_attempt_at"],
                createdAt: row["created_at"], updatedAt: row["updated_at"], sentAt: row["sent_at"], relay: row["relay"], sender: row["sender"])
        }
    }
}
