import Foundation
import PaperPostCore

/// The delivery log as senders share it: their leases, the rows each reserves and claims, and
/// the outcomes they write. Two implementations: SQLite (``DeliveryStore``, senders on one host
/// sharing the file) and PostgreSQL (senders on several hosts), with the same guarantees:
///
/// - A sender's lease fences it: once another sender took it over, the first writes nothing.
/// - Two senders never reserve the same row; a claim checks the reservation and the reader's
///   status in the transaction that marks the row `sending`, before the message goes out.
/// - After a sender dies, at most its rows still `sending` are uncertain: a takeover resends
///   them or marks them failed, and gives its reserved rows back to everyone.
public protocol DeliveryLog: Sendable {
    func acquireLease(day: Day, owner: String, duration: TimeInterval) async throws -> LeaseToken
    func senders(day: Day) async throws -> [(owner: String, expiresAt: Date)]
    @discardableResult
    func renewLease(_ lease: LeaseToken, duration: TimeInterval) async throws -> Bool
    func releaseLease(_ lease: LeaseToken) async throws
    func takeOver(
        day: Day, owner: String, isAbandoned: @escaping @Sendable (String) -> Bool, resend: Bool, now: Date
    ) async throws -> (uncertain: [Delivery], freed: Int)
    func outstanding(_ lease: LeaseToken, includeDeferred: Bool, only: Int64?, now: Date) async throws -> (free: Int, heldByOthers: Bool)
    func reserve(
        _ lease: LeaseToken, after afterID: Int64, through lastID: Int64, limit: Int, includeDeferred: Bool, only: Int64?, now: Date
    ) async throws -> [DueDelivery]
    /// A group commit of claims and outcomes. Blocks the calling thread: it is meant for a
    /// writer with a thread of its own.
    func commit(_ entries: [LogEntry], lease: LeaseToken, leaseDuration: TimeInterval, bouncePolicy: BouncePolicy) throws -> [ClaimDecision]
    @discardableResult
    func enqueue(day: Day, queued: [(id: Int64, email: String)], skipped: [(id: Int64, email: String, reason: String)]) async throws -> Int
    @discardableResult
    func deferQueued(_ lease: LeaseToken, reason: String, until next: Date) async throws -> Int
    /// Rows per state (every state listed, zeros included).
    func stats(day: Day?) async throws -> [(Delivery.State, Int)]
    /// Rows per relay and state, the relays in order of name (`nil`: no relay answered yet, or
    /// the outbox).
    func statsByRelay(day: Day?) async throws -> [(String?, Delivery.State, Int)]
    /// Per digest, newest first: messages delivered, and the bounces and complaints read back.
    func bounceStats(day: Day?) async throws -> [BounceStats]
    /// A page of the log, optionally for one day, state or address, newest day first and then
    /// by reader: the rows after `after`.
    func deliveries(
        day: Day?, state: Delivery.State?, email: EmailAddress?, after: (day: Day, subscriberID: Int64)?, limit: Int
    ) async throws -> [Delivery]
    /// How many rows are due (for progress and ETA).
    func countDue(day: Day, includeDeferred: Bool, only: Int64?, now: Date) async throws -> Int
    /// How many subscribers the filter selects who have no row in the day's log yet.
    func countUnlogged(day: Day, among filter: RecipientFilter) async throws -> Int
    /// Which of these subscribers already have a row in the day's log.
    func logged(day: Day, ids: [Int64]) async throws -> Set<Int64>
}

extension DeliveryLog {
    public func takeOver(
        day: Day, owner: String, isAbandoned: @escaping @Sendable (String) -> Bool, resend: Bool
    ) async throws -> (uncertain: [Delivery], freed: Int) {
        try await takeOver(day: day, owner: owner, isAbandoned: isAbandoned, resend: resend, now: Date())
    }

    public func outstanding(_ lease: LeaseToken, includeDeferred: Bool, only: Int64?) async throws -> (free: Int, heldByOthers: Bool) {
        try await outstanding(lease, includeDeferred: includeDeferred, only: only, now: Date())
    }

    public func reserve(
        _ lease: LeaseToken, after afterID: Int64, through lastID: Int64 = .max, limit: Int, includeDeferred: Bool, only: Int64?
    ) async throws -> [DueDelivery] {
        try await reserve(lease, after: afterID, through: lastID, limit: limit, includeDeferred: includeDeferred, only: only, now: Date())
    }

    public func countDue(day: Day, includeDeferred: Bool, only: Int64?) async throws -> Int {
        try await countDue(day: day, includeDeferred: includeDeferred, only: only, now: Date())
    }

    public func stats(day: Day) async throws -> [(Delivery.State, Int)] {
        try await stats(day: Optional(day))
    }

    /// The log, optionally for one day, state or address, newest day first.
    public func deliveries(day: Day? = nil, state: Delivery.State? = nil, email: EmailAddress? = nil) async throws -> [Delivery] {
        var all: [Delivery] = []
        try await forEachDeliveryPage(day: day, state: state, email: email) { all += $0 }
        return all
    }

    /// Calls `body` with each page of the log in the order of ``deliveries(day:state:email:)``:
    /// a listing of a million rows holds one page.
    public func forEachDeliveryPage(
        day: Day? = nil, state: Delivery.State? = nil, email: EmailAddress? = nil, pageSize: Int = 1_000,
        isolation: isolated (any Actor)? = #isolation, _ body: ([Delivery]) async throws -> Void
    ) async throws {
        var after: (day: Day, subscriberID: Int64)?
        while true {
            let page = try await deliveries(day: day, state: state, email: email, after: after, limit: pageSize)
            guard let last = page.last else { return }
            try await body(page)
            guard page.count == pageSize else { return }
            after = (last.day, last.subscriberID)
        }
    }
}

extension DeliveryStore: DeliveryLog {
    public func bounceStats(day: Day?) async throws -> [BounceStats] {
        try await BounceStore(database: database).stats(day: day)
    }
}
