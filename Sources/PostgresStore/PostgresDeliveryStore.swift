import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// The delivery log in PostgreSQL, for senders on several hosts.
///
/// SQLite serialises every writer, so its log checks a lease and then writes. Here transactions
/// run side by side, and the same guarantees come from row locks: a commit holds its sender's
/// lease row `FOR SHARE` (a takeover's `DELETE` waits for it, and a takeover skips a lease
/// whose sender is committing right now: it is alive), and a reservation takes due rows
/// `FOR UPDATE SKIP LOCKED`, so two senders reserving at once get disjoint rows without
/// waiting for each other.
public struct PostgresDeliveryStore: DeliveryLog {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func acquireLease(day: Day, owner: String, duration: TimeInterval) async throws -> LeaseToken {
        try await database.pooledTransaction { connection in
            try await database.run(
                """
                INSERT INTO send_lease (day, owner, expires_at, generation) VALUES (\(day.description), \(owner), \(Date().addingTimeInterval(duration)), 1)
                ON CONFLICT (day, owner) DO UPDATE SET expires_at = EXCLUDED.expires_at, generation = 1
                """,
                on: connection)
            return LeaseToken(day: day, owner: owner, generation: 1)
        }
    }

    public func senders(day: Day) async throws -> [(owner: String, expiresAt: Date)] {
        try await database.pooledTransaction { connection in
            try await database.run(
                "SELECT owner, expires_at FROM send_lease WHERE day = \(day.description) ORDER BY owner", on: connection
            ).map { try $0.decode((String, Date).self) }.map { (owner: $0.0, expiresAt: $0.1) }
        }
    }

    @discardableResult
    public func renewLease(_ lease: LeaseToken, duration: TimeInterval) async throws -> Bool {
        try await database.pooledTransaction { connection in
            try await Self.renew(lease, duration: duration, database, connection)
        }
    }

    private static func renew(_ lease: LeaseToken, duration: TimeInterval, _ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> Bool {
        try await !database.run(
            """
            UPDATE send_lease SET expires_at = \(Date().addingTimeInterval(duration))
            WHERE day = \(lease.day.description) AND owner = \(lease.owner) AND generation = \(lease.generation) RETURNING 1
            """,
            on: connection
        ).isEmpty
    }

    public func releaseLease(_ lease: LeaseToken) async throws {
        try await database.pooledTransaction { connection in
            let released = try await database.run(
                """
                DELETE FROM send_lease WHERE day = \(lease.day.description) AND owner = \(lease.owner) AND generation = \(lease.generation)
                RETURNING 1
                """,
                on: connection)
            if !released.isEmpty {
                try await database.run(
                    """
                    UPDATE delivery SET sender = NULL
                    WHERE day = \(lease.day.description) AND sender = \(lease.owner) AND state IN ('queued', 'deferred')
                    """,
                    on: connection)
            }
        }
    }

    public func takeOver(
        day: Day, owner: String, isAbandoned: @escaping @Sendable (String) -> Bool = { _ in false }, resend: Bool, now: Date = Date()
    ) async throws -> (uncertain: [Delivery], freed: Int) {
        try await database.pooledTransaction { connection in
            let dayText = day.description
            // A lease locked by its sender's commit in flight is skipped: that sender is alive.
            let leases = try await database.run(
                "SELECT owner, expires_at FROM send_lease WHERE day = \(dayText) AND owner <> \(owner) FOR UPDATE SKIP LOCKED",
                on: connection
            ).map { try $0.decode((String, Date).self) }
            var freed = 0
            for (holder, until) in leases where until < now || isAbandoned(holder) {
                try await database.run("DELETE FROM send_lease WHERE day = \(dayText) AND owner = \(holder)", on: connection)
                freed += try await database.run(
                    """
                    UPDATE delivery SET sender = NULL WHERE day = \(dayText) AND sender = \(holder) AND state IN ('queued', 'deferred')
                    RETURNING 1
                    """,
                    on: connection
                ).count
            }
            // Rows `sending` for a sender that holds no lease any more.
            let orphaned = """
                day = $1 AND state = 'sending' AND (sender IS NULL OR sender NOT IN (SELECT owner FROM send_lease WHERE day = $1))
                """
            var bindings = PostgresBindings()
            bindings.append(dayText)
            let uncertain = try await database.run(
                PostgresQuery(unsafeSQL: "SELECT \(Self.deliveryColumns) FROM delivery WHERE \(orphaned) FOR UPDATE", binds: bindings),
                on: connection
            ).map(Self.delivery)
            bindings.append(now)
            try await database.run(
                PostgresQuery(
                    unsafeSQL: resend
                        ? "UPDATE delivery SET state = 'queued', sender = NULL, updated_at = $2 WHERE " + orphaned
                        : "UPDATE delivery SET state = 'failed', last_reply = 'uncertain after crash', updated_at = $2 WHERE " + orphaned,
                    binds: bindings),
                on: connection)
            return (uncertain, freed)
        }
    }

    public func outstanding(
        _ lease: LeaseToken, includeDeferred: Bool, only: Int64? = nil, now: Date = Date()
    ) async throws -> (free: Int, heldByOthers: Bool) {
        try await database.pooledTransaction { connection in
            let day = lease.day.description
            let free = try await database.run(
                """
                SELECT count(*) FROM delivery WHERE day = \(day) AND sender IS NULL
                AND (state = 'queued' OR (state = 'deferred' AND (\(includeDeferred) OR next_attempt_at <= \(now))))
                AND (\(only)::bigint IS NULL OR subscriber_id = \(only))
                """,
                on: connection
            ).first?.decode(Int64.self) ?? 0
            let others = try await database.run(
                """
                SELECT EXISTS (SELECT 1 FROM delivery WHERE day = \(day) AND sender IS NOT NULL AND sender <> \(lease.owner)
                AND state IN ('queued', 'deferred', 'sending') AND (\(only)::bigint IS NULL OR subscriber_id = \(only)))
                """,
                on: connection
            ).first?.decode(Bool.self) ?? false
            return (Int(free), others)
        }
    }

    public func reserve(
        _ lease: LeaseToken, after afterID: Int64, through lastID: Int64 = .max, limit: Int, includeDeferred: Bool, only: Int64? = nil,
        now: Date = Date()
    ) async throws -> [DueDelivery] {
        try await database.pooledTransaction { connection in
            try await Self.fence(lease, database, connection)
            let day = lease.day.description
            let rows = try await database.run(
                """
                WITH picked AS (
                    SELECT subscriber_id FROM delivery
                    WHERE day = \(day) AND subscriber_id > \(afterID) AND subscriber_id <= \(lastID)
                    AND (state = 'queued' OR (state = 'deferred' AND (\(includeDeferred) OR next_attempt_at <= \(now))))
                    AND (sender IS NULL OR sender = \(lease.owner)) AND (\(only)::bigint IS NULL OR subscriber_id = \(only))
                    ORDER BY subscriber_id LIMIT \(Int64(max(0, limit)))
                    FOR UPDATE SKIP LOCKED)
                UPDATE delivery SET sender = \(lease.owner) FROM picked
                WHERE delivery.day = \(day) AND delivery.subscriber_id = picked.subscriber_id
                RETURNING delivery.subscriber_id, delivery.email, delivery.attempts
                """,
                on: connection
            ).map { row in
                let (id, email, attempts) = try row.decode((Int64, String, Int64).self)
                return DueDelivery(day: lease.day, subscriberID: id, email: email, attempts: Int(attempts))
            }
            return rows.sorted { $0.subscriberID < $1.subscriberID }
        }
    }

    /// Holds the lease row against a takeover until the transaction ends; throws if it is gone.
    /// Returns the lease's expiry.
    @discardableResult
    private static func fence(_ lease: LeaseToken, _ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> Date {
        let held = try await database.run(
            """
            SELECT expires_at FROM send_lease
            WHERE day = \(lease.day.description) AND owner = \(lease.owner) AND generation = \(lease.generation) FOR SHARE
            """,
            on: connection)
        guard let expiry = try held.first?.decode(Date.self) else {
            throw DeliveryStoreError.leaseLost(day: lease.day, holder: nil)
        }
        return expiry
    }

    /// Blocks the calling thread (a writer's own) until the transaction has committed.
    public func commit(
        _ entries: [LogEntry], lease: LeaseToken, leaseDuration: TimeInterval, bouncePolicy: BouncePolicy
    ) throws -> [ClaimDecision] {
        let done = DispatchSemaphore(value: 0)
        let outcome = ResultBox()
        Task {
            do {
                outcome.set(.success(try await commitAsync(entries, lease: lease, leaseDuration: leaseDuration, bouncePolicy: bouncePolicy)))
            } catch {
                outcome.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        return try outcome.get()
    }

    /// ``commit(_:lease:leaseDuration:bouncePolicy:)`` for callers that can await it.
    public func commitAsync(
        _ entries: [LogEntry], lease: LeaseToken, leaseDuration: TimeInterval, bouncePolicy: BouncePolicy
    ) async throws -> [ClaimDecision] {
        if let decisions = try await commitClaimsAndSent(entries, lease: lease, leaseDuration: leaseDuration, bouncePolicy: bouncePolicy) {
            return decisions
        }
        return try await commitEach(entries, lease: lease, leaseDuration: leaseDuration, bouncePolicy: bouncePolicy)
    }

    /// The usual group commit (claims, and messages the server accepted) as one prepared
    /// statement: the lease held `FOR SHARE` and both updates conditioned on it, so a fenced
    /// sender writes nothing, in one round trip where a transaction of separate statements took
    /// five, parsed once per connection. A claim the statement could not make is looked at
    /// again with ``commitEach``, which says why. `nil` when the entries hold anything else
    /// (failures, deferrals, bounces).
    private func commitClaimsAndSent(
        _ entries: [LogEntry], lease: LeaseToken, leaseDuration: TimeInterval, bouncePolicy: BouncePolicy
    ) async throws -> [ClaimDecision]? {
        var claims: [DueDelivery] = []
        var sent = SentColumns()
        for entry in entries {
            switch entry {
            case .claim(let row) where row.day == lease.day: claims.append(row)
            case .outcome(let outcome) where outcome.day == lease.day && sent.append(outcome): break
            default: return nil
            }
        }
        let date = Date()
        let result = try await database.execute(ClaimsAndSent(lease: lease, now: date, claims: claims.map(\.subscriberID), sent: sent)).first
        guard let (expiry, claimedIDs) = result, let expiry else {
            throw DeliveryStoreError.leaseLost(day: lease.day, holder: nil)
        }
        if expiry < date.addingTimeInterval(leaseDuration * 0.8) {
            try await renewLease(lease, duration: leaseDuration)
        }
        let claimed = Set(claimedIDs)
        let missed = claims.filter { !claimed.contains($0.subscriberID) }
        var reasons: [Int64: ClaimDecision] = [:]
        if !missed.isEmpty {
            let decisions = try await commitEach(missed.map { .claim($0) }, lease: lease, leaseDuration: leaseDuration, bouncePolicy: bouncePolicy)
            reasons = Dictionary(zip(missed.map(\.subscriberID), decisions)) { $1 }
        }
        return claims.map { reasons[$0.subscriberID] ?? .send }
    }

    /// A group commit as a transaction of one statement per entry: the general case, for
    /// failures, deferrals and bounces, and for the claims ``commitClaimsAndSent`` could not make.
    private func commitEach(
        _ entries: [LogEntry], lease: LeaseToken, leaseDuration: TimeInterval, bouncePolicy: BouncePolicy
    ) async throws -> [ClaimDecision] {
        try await database.pooledTransaction { connection in
            let date = Date()
            let expiry = try await Self.fence(lease, database, connection)
            if expiry < date.addingTimeInterval(leaseDuration * 0.8) {
                _ = try await Self.renew(lease, duration: leaseDuration, database, connection)
            }
            var decisions: [ClaimDecision] = []
            for entry in entries {
                switch entry {
                case .claim(let row):
                    decisions += try await claim([row], lease: lease, now: date, connection)
                case .outcome(let outcome):
                    try await write(outcome, now: date, bouncePolicy: bouncePolicy, connection)
                }
            }
            return decisions
        }
    }

    /// Claims rows of one day; a row that cannot be claimed is looked at on its own.
    private func claim(_ rows: [DueDelivery], lease: LeaseToken, now: Date, _ connection: PostgresConnection) async throws -> [ClaimDecision] {
        let claimed = Set(
            try await database.run(
                """
                UPDATE delivery SET state = 'sending', attempts = attempts + 1, updated_at = \(now), sender = \(lease.owner)
                WHERE day = \(rows[0].day.description) AND subscriber_id = ANY(\(rows.map(\.subscriberID))) AND state IN ('queued', 'deferred')
                AND (sender IS NULL OR sender = \(lease.owner))
                AND EXISTS (SELECT 1 FROM subscriber WHERE subscriber.id = delivery.subscriber_id AND subscriber.status = 'active')
                RETURNING subscriber_id
                """,
                on: connection
            ).map { try $0.decode(Int64.self) })
        var decisions: [ClaimDecision] = []
        for row in rows {
            decisions.append(claimed.contains(row.subscriberID) ? .send : try await unclaimed(row, lease: lease, now: now, connection))
        }
        return decisions
    }

    /// Why a row could not be claimed; a reader who left during the send gets a `skipped` row.
    private func unclaimed(_ row: DueDelivery, lease: LeaseToken, now: Date, _ connection: PostgresConnection) async throws -> ClaimDecision {
        let day = row.day.description
        let current = try await database.run(
            """
            SELECT delivery.state, subscriber.status, delivery.sender FROM delivery
            LEFT JOIN subscriber ON subscriber.id = delivery.subscriber_id
            WHERE delivery.day = \(day) AND delivery.subscriber_id = \(row.subscriberID)
            """,
            on: connection)
        guard let (state, status, holder) = try current.first?.decode((String, String?, String?).self) else {
            return .withhold("no longer in the delivery log")
        }
        guard state == "queued" || state == "deferred" else { return .withhold("already \(state)") }
        if let holder, holder != lease.owner { return .withhold("reserved by another send (\(holder))") }
        guard status == SubscriberStatus.active.rawValue else {
            let reason = "\(status ?? "removed") during the send"
            try await database.run(
                """
                UPDATE delivery SET state = 'skipped', last_reply = \(reason), next_attempt_at = NULL, updated_at = \(now)
                WHERE day = \(day) AND subscriber_id = \(row.subscriberID)
                """,
                on: connection)
            return .withhold(reason)
        }
        return .withhold("could not be claimed")
    }

    private func write(_ outcome: DeliveryOutcome, now: Date, bouncePolicy: BouncePolicy, _ connection: PostgresConnection) async throws {
        let (day, id, relay) = (outcome.day.description, outcome.subscriberID, outcome.relay)
        switch outcome.result {
        case .sent(let code, let reply, let messageID, let bytes):
            try await database.run(
                """
                UPDATE delivery SET state = 'sent', last_code = \(code.map(Int64.init)), last_reply = \(reply), message_id = \(messageID),
                    bytes = \(Int64(bytes)), next_attempt_at = NULL, sent_at = \(now), updated_at = \(now), relay = \(relay)
                WHERE day = \(day) AND subscriber_id = \(id)
                """,
                on: connection)
        case .deferred(let code, let reply, let next):
            try await database.run(
                """
                UPDATE delivery SET state = 'deferred', last_code = \(code.map(Int64.init)), last_reply = \(reply), next_attempt_at = \(next),
                    updated_at = \(now), relay = \(relay)
                WHERE day = \(day) AND subscriber_id = \(id)
                """,
                on: connection)
        case .failed(let code, let reply, let bounce):
            try await database.run(
                """
                UPDATE delivery SET state = 'failed', last_code = \(code.map(Int64.init)), last_reply = \(reply), next_attempt_at = NULL,
                    updated_at = \(now), relay = \(relay)
                WHERE day = \(day) AND subscriber_id = \(id)
                """,
                on: connection)
            if bounce {
                try await recordHardBounce(subscriberID: id, day: day, reply: reply, policy: bouncePolicy, now: now, connection)
            }
        case .skipped(let reason):
            try await database.run(
                "UPDATE delivery SET state = 'skipped', last_reply = \(reason), updated_at = \(now) WHERE day = \(day) AND subscriber_id = \(id)",
                on: connection)
        }
    }

    /// An SMTP hard bounce, as ``BounceStore`` records one: the score (``BouncePolicy``), the
    /// subscriber `bounced` at the threshold with an event saying so, and the bounce event.
    private func recordHardBounce(
        subscriberID: Int64, day: String, reply: String, policy: BouncePolicy, now: Date, _ connection: PostgresConnection
    ) async throws {
        let event = BounceEvent(target: .subscriber(id: subscriberID, day: try Day(parsing: day)), kind: .hard, diagnostic: reply)
        _ = try await PostgresBounceStore.apply(event, policy: policy, now: now, source: "smtp", database, connection)
    }

    @discardableResult
    public func enqueue(day: Day, queued: [(id: Int64, email: String)], skipped: [(id: Int64, email: String, reason: String)]) async throws -> Int {
        try await database.pooledTransaction { connection in
            let now = Date()
            let added = try await database.run(
                """
                INSERT INTO delivery (day, subscriber_id, email, state, created_at, updated_at)
                SELECT \(day.description), id, email, 'queued', \(now), \(now)
                FROM unnest(\(queued.map(\.id))::bigint[], \(queued.map(\.email))::text[]) AS row (id, email)
                ON CONFLICT (day, subscriber_id) DO NOTHING RETURNING 1
                """,
                on: connection
            ).count
            return try await added + database.run(
                """
                INSERT INTO delivery (day, subscriber_id, email, state, last_reply, created_at, updated_at)
                SELECT \(day.description), id, email, 'skipped', reason, \(now), \(now)
                FROM unnest(\(skipped.map(\.id))::bigint[], \(skipped.map(\.email))::text[], \(skipped.map(\.reason))::text[])
                    AS row (id, email, reason)
                ON CONFLICT (day, subscriber_id) DO NOTHING RETURNING 1
                """,
                on: connection
            ).count
        }
    }

    @discardableResult
    public func deferQueued(_ lease: LeaseToken, reason: String, until next: Date) async throws -> Int {
        try await database.pooledTransaction { connection in
            try await database.run(
                """
                UPDATE delivery SET state = 'deferred', last_reply = \(reason), next_attempt_at = \(next), updated_at = \(Date()), sender = NULL
                WHERE day = \(lease.day.description) AND state = 'queued' AND (sender IS NULL OR sender = \(lease.owner))
                RETURNING 1
                """,
                on: connection
            ).count
        }
    }

    public func stats(day: Day?) async throws -> [(Delivery.State, Int)] {
        try await database.pooledTransaction { connection in
            let rows = try await database.run(
                "SELECT state, count(*) FROM delivery WHERE \(day?.description)::text IS NULL OR day = \(day?.description) GROUP BY state",
                on: connection
            ).map { try $0.decode((String, Int64).self) }
            let counts = Dictionary(uniqueKeysWithValues: rows.map { ($0.0, Int($0.1)) })
            return Delivery.State.allCases.map { ($0, counts[$0.rawValue] ?? 0) }
        }
    }

    public func deliveries(
        day: Day?, state: Delivery.State?, email: EmailAddress?, after: (day: Day, subscriberID: Int64)?, limit: Int
    ) async throws -> [Delivery] {
        var bindings = PostgresBindings()
        bindings.append(day?.description)
        bindings.append(state?.rawValue)
        bindings.append(email?.key)
        bindings.append(after?.day.description)
        bindings.append(after?.subscriberID)
        bindings.append(Int64(limit))
        return try await database.pooledTransaction { connection in
            try await database.run(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.deliveryColumns) FROM delivery
                        WHERE ($1::text IS NULL OR day = $1) AND ($2::text IS NULL OR state = $2)
                        AND ($3::text IS NULL OR subscriber_id IN (SELECT id FROM subscriber WHERE email_key = $3))
                        AND ($4::text IS NULL OR day < $4 OR (day = $4 AND subscriber_id > $5::bigint))
                        ORDER BY day DESC, subscriber_id LIMIT $6
                        """,
                    binds: bindings),
                on: connection
            ).map(Self.delivery)
        }
    }

    public func bounceStats(day: Day?) async throws -> [BounceStats] {
        try await database.pooledStatement(
            """
            SELECT d.day, count(*) FILTER (WHERE d.state IN ('sent', 'bounced')),
                (SELECT count(*) FROM bounce_event e WHERE e.day = d.day AND e.kind = 'hard'),
                (SELECT count(*) FROM bounce_event e WHERE e.day = d.day AND e.kind = 'soft'),
                (SELECT count(*) FROM bounce_event e WHERE e.day = d.day AND e.kind = 'complaint')
            FROM delivery d WHERE \(day?.description)::text IS NULL OR d.day = \(day?.description)
            GROUP BY d.day ORDER BY d.day DESC
            """
        ).map { row in
            let (day, delivered, hard, soft, complaints) = try row.decode((String, Int64, Int64, Int64, Int64).self)
            return BounceStats(
                day: try Day(parsing: day), delivered: Int(delivered), hardBounces: Int(hard), softBounces: Int(soft), complaints: Int(complaints))
        }
    }

    public func statsByRelay(day: Day?) async throws -> [(String?, Delivery.State, Int)] {
        try await database.pooledTransaction { connection in
            try await database.run(
                """
                SELECT relay, state, count(*) FROM delivery WHERE \(day?.description)::text IS NULL OR day = \(day?.description)
                GROUP BY relay, state ORDER BY relay COLLATE "C" NULLS FIRST, state
                """,
                on: connection
            ).map { row in
                let (relay, state, count) = try row.decode((String?, String, Int64).self)
                return (relay, Delivery.State(rawValue: state) ?? .failed, Int(count))
            }
        }
    }

    public func countDue(day: Day, includeDeferred: Bool, only: Int64? = nil, now: Date = Date()) async throws -> Int {
        try await database.pooledTransaction { connection in
            Int(
                try await database.run(
                    """
                    SELECT count(*) FROM delivery WHERE day = \(day.description)
                    AND (state = 'queued' OR (state = 'deferred' AND (\(includeDeferred) OR next_attempt_at <= \(now))))
                    AND (\(only)::bigint IS NULL OR subscriber_id = \(only))
                    """,
                    on: connection
                ).first?.decode(Int64.self) ?? 0)
        }
    }

    public func countUnlogged(day: Day, among filter: RecipientFilter) async throws -> Int {
        try await database.pooledTransaction { connection in
            var bindings = PostgresBindings()
            bindings.append(day.description)
            let condition = filter.postgresCondition(&bindings)
            return Int(
                try await database.run(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT count(*) FROM subscriber s WHERE \(condition)
                            AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.day = $1 AND d.subscriber_id = s.id)
                            """,
                        binds: bindings),
                    on: connection
                ).first?.decode(Int64.self) ?? 0)
        }
    }

    public func logged(day: Day, ids: [Int64]) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await database.pooledTransaction { connection in
            Set(
                try await database.run(
                    "SELECT subscriber_id FROM delivery WHERE day = \(day.description) AND subscriber_id = ANY(\(ids))", on: connection
                ).map { try $0.decode(Int64.self) })
        }
    }

    static let deliveryColumns = """
        day, subscriber_id, email, state, attempts, last_code, last_reply, message_id, bytes, next_attempt_at, \
        created_at, updated_at, sent_at, relay, sender
        """

    static func delivery(_ row: PostgresRow) throws -> Delivery {
        let cells = row.makeRandomAccess()
        return Delivery(
            day: try Day(parsing: try cells[0].decode(String.self)), subscriberID: try cells[1].decode(Int64.self),
            email: try cells[2].decode(String.self), state: Delivery.State(rawValue: try cells[3].decode(String.self)) ?? .failed,
            attempts: Int(try cells[4].decode(Int64.self)), lastCode: try cells[5].decode(Int64?.self).map(Int.init),
            lastReply: try cells[6].decode(String?.self), messageID: try cells[7].decode(String?.self),
            bytes: try cells[8].decode(Int64?.self).map(Int.init), nextAttemptAt: try cells[9].decode(Date?.self),
            createdAt: try cells[10].decode(Date.self), updatedAt: try cells[11].decode(Date.self), sentAt: try cells[12].decode(Date?.self),
            relay: try cells[13].decode(String?.self), sender: try cells[14].decode(String?.self))
    }
}

/// The outcome of an async transaction, handed to the thread that waits for it.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<[ClaimDecision], any Error>?

    func set(_ result: Result<[ClaimDecision], any Error>) { lock.withLock { self.result = result } }
    func get() throws -> [ClaimDecision] { try lock.withLock { result! }.get() }
}

/// Accepted messages as the columns of ``ClaimsAndSent``'s `UPDATE … FROM unnest(…)`. The
/// arrays bound hold no NULLs, so the optional values travel with a flag.
private struct SentColumns {
    var ids: [Int64] = [], codes: [Int64] = [], replies: [String] = [], noReply: [Bool] = []
    var messageIDs: [String] = [], sizes: [Int64] = [], relays: [String] = [], noRelay: [Bool] = []

    /// Adds the outcome if it is a message sent; false otherwise.
    mutating func append(_ outcome: DeliveryOutcome) -> Bool {
        guard case .sent(let code, let reply, let messageID, let bytes) = outcome.result else { return false }
        ids.append(outcome.subscriberID)
        codes.append(code.map(Int64.init) ?? -1)
        replies.append(reply ?? "")
        noReply.append(reply == nil)
        messageIDs.append(messageID)
        sizes.append(Int64(bytes))
        relays.append(outcome.relay ?? "")
        noRelay.append(outcome.relay == nil)
        return true
    }

    /// Binds the eight arrays, in the order ``ClaimsAndSent`` reads them.
    func bind(_ bindings: inout PostgresBindings) {
        bindings.append(ids)
        bindings.append(codes)
        bindings.append(replies)
        bindings.append(noReply)
        bindings.append(messageIDs)
        bindings.append(sizes)
        bindings.append(relays)
        bindings.append(noRelay)
    }
}

/// ``PostgresDeliveryStore``'s usual group commit: the sender's lease held `FOR SHARE`, its
/// claims, and the messages the server accepted, in one statement that writes nothing once the
/// lease is gone. Returns the lease's expiry (`NULL`: fenced) and the rows claimed.
private struct ClaimsAndSent: PostgresPreparedStatement {
    typealias Row = (Date?, [Int64])

    static let sql = """
        WITH lease AS (
            SELECT expires_at FROM send_lease WHERE day = $1 AND owner = $2 AND generation = $3 FOR SHARE
        ), claimed AS (
            UPDATE delivery SET state = 'sending', attempts = attempts + 1, updated_at = $4, sender = $2
            WHERE EXISTS (SELECT 1 FROM lease) AND day = $1 AND subscriber_id = ANY($5) AND state IN ('queued', 'deferred')
            AND (sender IS NULL OR sender = $2)
            AND EXISTS (SELECT 1 FROM subscriber WHERE subscriber.id = delivery.subscriber_id AND subscriber.status = 'active')
            RETURNING subscriber_id
        ), sent AS (
            UPDATE delivery AS d SET state = 'sent', last_code = NULLIF(v.code, -1),
                last_reply = CASE WHEN v.no_reply THEN NULL ELSE v.reply END, message_id = v.message_id, bytes = v.bytes,
                next_attempt_at = NULL, sent_at = $4, updated_at = $4, relay = CASE WHEN v.no_relay THEN NULL ELSE v.relay END
            FROM unnest($6::bigint[], $7::bigint[], $8::text[], $9::boolean[], $10::text[], $11::bigint[], $12::text[], $13::boolean[])
                AS v(id, code, reply, no_reply, message_id, bytes, relay, no_relay)
            WHERE EXISTS (SELECT 1 FROM lease) AND d.day = $1 AND d.subscriber_id = v.id
        )
        SELECT (SELECT expires_at FROM lease), ARRAY(SELECT subscriber_id FROM claimed)
        """

    var lease: LeaseToken
    var now: Date
    var claims: [Int64]
    var sent: SentColumns

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(lease.day.description)
        bindings.append(lease.owner)
        bindings.append(lease.generation)
        bindings.append(now)
        bindings.append(claims)
        sent.bind(&bindings)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode((Date?, [Int64]).self)
    }
}
