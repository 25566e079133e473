import struct Crypto.SymmetricKey
import Foundation
import PaperPostCore
import PaperPostStore
import Rendering
import Synchronization

/// What to send.
public struct SendOptions: Sendable {
    /// The digest's day; `nil` takes the latest digest.
    public var day: Day?
    /// Say what would be sent; change nothing.
    public var dryRun = false
    /// Send at most this many messages in this run.
    public var limit: Int?
    /// Send only to this subscriber.
    public var only: EmailAddress?
    /// Retry deferred messages now, not at their scheduled time.
    public var retryDeferred = false
    /// After a crash, send again the messages whose outcome is unknown (default: mark them failed).
    public var resendUncertain = false

    public init(day: Day? = nil, dryRun: Bool = false, limit: Int? = nil, only: EmailAddress? = nil, retryDeferred: Bool = false, resendUncertain: Bool = false) {
        self.day = day
        self.dryRun = dryRun
        self.limit = limit
        self.only = only
        self.retryDeferred = retryDeferred
        self.resendUncertain = resendUncertain
    }
}

/// Counts as a send goes on, for a progress bar.
public struct SendProgress: Sendable {
    public var sent = 0
    public var deferred = 0
    public var failed = 0
    public var skipped = 0
    /// Messages due in this run.
    public var due = 0
    public var elapsed: Duration = .zero

    public var done: Int { sent + deferred + failed + skipped }
    public var remaining: Int { max(0, due - done) }
    public var rate: Double { elapsed.seconds > 0 ? Double(done) / elapsed.seconds : 0 }
}

/// What a send did.
public struct SendReport: Sendable {
    public var day: Day
    public var transport: String
    public var progress = SendProgress()
    /// Rows a crashed run left in `sending`, and what was done with them.
    public var uncertain: [Delivery] = []
    public var resentUncertain = false
    /// Newly queued or skipped rows this run added to the log.
    public var enqueued = 0
    public var dryRun = false
    /// For a dry run: the log as it would be before sending.
    public var plan: [(Delivery.State, Int)] = []
    /// Why the run stopped before the end (the SMTP circuit breaker), and how many rows it
    /// put off to the next run.
    public var stoppedEarly: String?
    public var deferredUnsent = 0

    /// Exit code 3 when some messages were deferred or failed, or the run stopped early.
    public var isPartial: Bool {
        progress.deferred > 0 || progress.failed > 0 || (!resentUncertain && !uncertain.isEmpty) || stoppedEarly != nil
    }
}

/// Why a send could not run at all, or had to stop.
public enum SendError: Error, Sendable, CustomStringConvertible {
    case noDigest(Day?)
    /// The delivery log could not be written (the lease was taken over, the disk is full), so
    /// the send stopped at once. `unrecorded` accepted messages stay `sending` (uncertain).
    case logStopped(day: Day, reason: String, sent: Int, unrecorded: Int)

    public var description: String {
        switch self {
        case .noDigest(let day?): "no digest for \(day) yet; run 'paperpost curate' first"
        case .noDigest(nil): "no digest yet; run 'paperpost fetch' and 'paperpost curate' first"
        case .logStopped(let day, let reason, let sent, let unrecorded):
            "the send of \(day) stopped after \(sent) message(s): \(reason)"
                + (unrecorded > 0
                    ? "; \(unrecorded) message(s) the server accepted could not be logged and stay 'sending' "
                        + "(the next run reports them as uncertain)"
                    : "")
        }
    }
}

/// Sends a digest to every active subscriber exactly once as far as SMTP allows.
///
/// A message's log row is committed as `sending` before the message can be handed over (the
/// SMTP end-of-data waits for it) and as `sent` in the same group commit that clears the lane's
/// next message. After a crash at most one row per connection is left in `sending`, and those
/// are exactly the messages whose fate is unknown: the next run reports them and, by policy,
/// sends them again or marks them failed.
///
/// Several sends of one digest may run at once (on one host, or on several sharing the
/// database): each holds a lease of its own and reserves its read-ahead, so they take disjoint
/// rows. One whose lease runs out (killed, or paused past it) is taken over by another: its
/// reserved rows go back to everyone, its `sending` rows are resolved as uncertain, and its
/// deleted lease fences it off the log should it resume. A send that finds nothing left to
/// reserve while others still hold rows waits for them to finish or to be taken over.
public struct SendJob: Sendable {
    let settings: Settings
    let store: SendingStore
    let transport: any MailTransport
    /// Due rows read ahead per query (read only: nothing is marked until it is sent).
    static let readAhead = 128
    /// Messages composed together and handed to a lane's thread in one hop. Each is claimed
    /// only as its own transfer starts.
    static let laneBatch = 8

    public init(settings: Settings, store: SendingStore, transport: any MailTransport) {
        self.settings = settings
        self.store = store
        self.transport = transport
    }

    /// A send on the SQLite store.
    public init(settings: Settings, database: PaperPostDatabase, transport: any MailTransport) {
        self.init(settings: settings, store: SendingStore(sqlite: database, settings: settings), transport: transport)
    }

    public func run(_ options: SendOptions, progress: @escaping @Sendable (SendProgress) -> Void = { _ in }) async throws -> SendReport {
        let curation = store.digests
        let latest = try await curation.latestAnnouncedDay()
        guard let day = options.day ?? latest, let digest = try await curation.digest(on: day) else {
            throw SendError.noDigest(options.day)
        }
        let deliveries = store.deliveries
        let subscribers = store.recipients
        var report = SendReport(day: day, transport: transport.name)

        var only: Int64?
        if let address = options.only {
            guard let match = try await subscribers.recipients(only: address, includingInactive: true).first else {
                throw StoreError.notFound(email: address.value)
            }
            only = match.subscriberID
        }
        let readers = QueueFiller.recipients(of: day, only: options.only)
        let serverSecret = try await store.linkKey()
        // Weekly readers due today get the best of the week's stored digests: no model call.
        var weekly = readers
        weekly.schedules = readers.schedules?.filter { $0 != .daily }
        let hasWeekly = weekly.schedules?.isEmpty == false ? try await subscribers.count(weekly) > 0 : false
        let week = hasWeekly ? try await curation.week(endingOn: day) : nil
        // The first page's editions are made on every core before the first message; the
        // others as their first reader comes.
        let firstPage = try await subscribers.recipients(after: 0, limit: 1_000, readers)
        let composer = try EmailComposer(digest: digest, week: week, recipients: firstPage, settings: settings, serverSecret: serverSecret)
        // Keys are loaded before anything is claimed: a bad key file stops the run untouched.
        let signer = try settings.mail.dkim.map { dkim throws(DKIMError) in try DKIMSigner(settings: dkim, from: settings.mail.from.address) }
        let filler = QueueFiller(day: day, subscribers: subscribers, deliveries: deliveries, composer: composer, only: options.only)

        if options.dryRun {
            report.dryRun = true
            let added = try await filler.plan()
            var plan = Dictionary(uniqueKeysWithValues: try await deliveries.stats(day: day).map { ($0.0, $0.1) })
            plan[.queued, default: 0] += added.queued
            plan[.skipped, default: 0] += added.skipped
            report.plan = Delivery.State.allCases.map { ($0, plan[$0] ?? 0) }
            return report
        }

        let leaseSeconds = settings.delivery.leaseDuration.seconds
        let lease = try await deliveries.acquireLease(day: day, owner: LeaseOwner.make(), duration: leaseSeconds)
        let log = DeliveryLogWriter(
            store: deliveries, lease: lease, leaseDuration: leaseSeconds, bouncePolicy: settings.delivery.bouncePolicy)
        let takeovers = Takeovers(deliveries: deliveries, lease: lease, resend: options.resendUncertain)
        // Commits renew the lease; this covers the quiet stretches (a slow server, a rate
        // limit), and takes over other senders of the digest whose lease ran out.
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(leaseSeconds / 5))
                guard !Task.isCancelled else { return }
                do {
                    if try await !deliveries.renewLease(lease, duration: leaseSeconds) {
                        log.fail("\(DeliveryStoreError.leaseLost(day: day, holder: nil))")
                    }
                    try await takeovers.run()
                } catch {
                    log.fail("the delivery log cannot be written: \(error)")
                }
            }
        }
        defer { heartbeat.cancel() }

        try await takeovers.run()
        report.resentUncertain = options.resendUncertain
        // Rows already in the log that are due, and the readers who have none yet (an upper
        // bound: the queue filler takes back those it skips).
        let dueNow = try await deliveries.countDue(day: day, includeDeferred: options.retryDeferred, only: only)
            + deliveries.countUnlogged(day: day, among: readers)
        let run = Run(
            day: day, settings: settings, deliveries: deliveries, subscribers: subscribers, filler: filler, log: log, composer: composer, signer: signer,
            returnPath: settings.delivery.bounceAddress.map { ($0, serverSecret) }, envelopeSender: settings.mail.from.address.value,
            budget: options.limit ?? Int.max, due: min(dueNow, options.limit ?? Int.max),
            includeDeferred: options.retryDeferred, only: only, lease: lease, takeovers: takeovers, progress: progress)
        try await run.start(lanes: try transport.makeLanes(connections: settings.delivery.connections))
        if log.failure == nil {
            // A run cut short (--limit, the breaker) still leaves every reader's row in the log.
            try await filler.finish()
        }
        report.enqueued = await filler.added
        report.progress = run.snapshot()
        heartbeat.cancel()
        report.uncertain = takeovers.uncertain
        if let failure = log.failure {
            // Gives the lease back if it is still ours (not after a takeover; a full disk may refuse).
            try? await deliveries.releaseLease(lease)
            throw SendError.logStopped(day: day, reason: failure, sent: report.progress.sent, unrecorded: log.unrecorded)
        }
        if let breaker = run.breakerReason {
            report.stoppedEarly = breaker
            report.deferredUnsent = try await deliveries.deferQueued(
                lease, reason: "not attempted: \(breaker)", until: Date().addingTimeInterval(settings.delivery.retryBase.seconds))
        }
        try await deliveries.releaseLease(lease)
        return report
    }
}

/// One send run's shared state: the claim budget, counters, and the circuit breaker.
final class Run: Sendable {
    let day: Day
    let settings: Settings
    let deliveries: any DeliveryLog
    let subscribers: any RecipientDirectory
    let filler: QueueFiller
    let log: DeliveryLogWriter
    let composer: EmailComposer
    let signer: DKIMSigner?
    /// The bounce address and the key of per-message return paths (VERP), when one is set.
    let returnPath: (base: EmailAddress, key: SymmetricKey)?
    /// The envelope sender without a bounce address: the From address.
    let envelopeSender: String
    let budget: Mutex<Int>
    /// The last subscriber id read ahead: the next read starts after it.
    let cursor = Mutex<Int64>(0)
    let includeDeferred: Bool
    let only: Int64?
    let lease: LeaseToken
    let takeovers: Takeovers
    let progressHandler: @Sendable (SendProgress) -> Void
    let counters: Mutex<SendProgress>
    /// Connection failures and timeouts in a row, and why the breaker opened once it did.
    let breaker = Mutex<(failures: Int, reason: String?)>((0, nil))
    let pacer: Pacer?
    let start = ContinuousClock.now

    init(
        day: Day, settings: Settings, deliveries: any DeliveryLog, subscribers: any RecipientDirectory, filler: QueueFiller, log: DeliveryLogWriter,
        composer: EmailComposer, signer: DKIMSigner?, returnPath: (base: EmailAddress, key: SymmetricKey)?, envelopeSender: String, budget: Int, due: Int, includeDeferred: Bool, only: Int64?,
        lease: LeaseToken, takeovers: Takeovers, progress: @escaping @Sendable (SendProgress) -> Void
    ) {
        self.lease = lease
        self.takeovers = takeovers
        self.day = day
        self.settings = settings
        self.deliveries = deliveries
        self.subscribers = subscribers
        self.filler = filler
        self.log = log
        self.composer = composer
        self.signer = signer
        self.returnPath = returnPath
        self.envelopeSender = envelopeSender
        self.budget = Mutex(budget)
        self.includeDeferred = includeDeferred
        self.only = only
        self.progressHandler = progress
        var initial = SendProgress()
        initial.due = due
        self.counters = Mutex(initial)
        self.pacer = settings.delivery.rate.map { Pacer(perSecond: $0) }
    }

    /// Why the circuit breaker stopped the run, if it did.
    var breakerReason: String? { breaker.withLock { $0.reason } }

    /// Whether lanes should stop taking messages.
    var isStopping: Bool { breakerReason != nil || log.failure != nil }

    func start(lanes: [any MailLane]) async throws {
        let writer = Task { await log.run() }
        let rows = Dispatcher(run: self, lowWater: lanes.count * SendJob.laneBatch)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in lanes {
                    group.addTask { try await self.work(lane, rows: rows) }
                }
                try await group.waitForAll()
            }
        } catch {
            log.finish()
            await writer.value
            throw error
        }
        log.finish()
        await writer.value
    }

    func snapshot() -> SendProgress {
        counters.withLock { progress in
            progress.elapsed = ContinuousClock.now - start
            return progress
        }
    }

    /// One lane: take a few rows, compose their messages, send them one by one (each claimed
    /// in the log as its transfer starts, each outcome logged as it settles), repeat until
    /// nothing is due or the run stops. The next batch is composed while the lane's thread
    /// sends the current one, so the connection does not wait for rendering. With a rate
    /// limit, one message at a time so the pacing holds.
    private func work(_ lane: any MailLane, rows: Dispatcher) async throws {
        let batchSize = pacer == nil ? min(SendJob.laneBatch, lane.batchLimit ?? SendJob.laneBatch) : 1
        var date = MessageDate()
        defer { lane.close() }
        try await withThrowingTaskGroup(of: Void.self) { sending in
            var batch = await lane.admit(batchSize) ? try await rows.next(batchSize) : []
            while !batch.isEmpty, !isStopping {
                let now = Date()
                if now.timeIntervalSince(date.date) >= 1 { date = MessageDate(now) }
                let (outgoing, claimed) = compose(batch, date: date)
                // The previous batch is done before this one starts: one transfer at a time per lane.
                try await sending.next()
                await pacer?.wait()
                sending.addTask {
                    await lane.send(outgoing) { [self] index, result, relay in
                        self.settle(result, row: claimed[index], message: outgoing[index], relay: relay)
                    }
                }
                batch = isStopping ? [] : await lane.admit(batchSize) ? try await rows.next(batchSize) : []
            }
        }
    }

    /// The messages of a batch, with the rows they belong to; rows with nothing to send are
    /// settled as skipped here, and a message that cannot be signed is deferred, never sent
    /// unsigned.
    private func compose(_ batch: [DueMessage], date: MessageDate) -> ([OutgoingMessage], [DueDelivery]) {
        var buffer: [UInt8] = []
        var messages: [OutgoingMessage] = []
        var rows: [DueDelivery] = []
        for (row, recipient) in batch.map({ ($0.row, $0.recipient) }) {
            guard let recipient,
                let email = composer.compose(for: recipient, date: date, into: &buffer)
            else {
                settle(DeliveryOutcome(day: day, subscriberID: row.subscriberID, result: .skipped(reason: "no longer active, or no papers in their categories")))
                continue
            }
            let bytes: [UInt8]
            do {
                bytes = try signer.map { signer throws(DKIMError) in try signer.signed(buffer, at: date.date) } ?? buffer
            } catch {
                settle(DeliveryOutcome(day: day, subscriberID: row.subscriberID, result: .deferred(
                    code: nil, reply: "not sent: \(error)", nextAttempt: Date().addingTimeInterval(settings.delivery.retryBase.seconds))))
                continue
            }
            let composer = self.composer
            messages.append(OutgoingMessage(
                day: day,
                envelopeSender: returnPath.map { ReturnPath(day: day, subscriberID: row.subscriberID).address(base: $0.base, key: $0.key) }
                    ?? envelopeSender,
                recipient: recipient.email, messageID: email.messageID,
                bytes: bytes,
                claim: { [self] in self.claim(row) },
                preview: { composer.previewHTML(for: recipient) }))
            rows.append(row)
        }
        return (messages, rows)
    }

    /// The log's consent for one message, or an immediate no once the run is stopping.
    private func claim(_ row: DueDelivery) -> HandOver {
        if let reason = breakerReason { return HandOver(.withhold(reason)) }
        return log.claim(row)
    }

    /// Counts one transfer's result, feeds the circuit breaker, and logs the outcome.
    private func settle(_ result: TransportResult, row: DueDelivery, message: OutgoingMessage, relay: String?) {
        trackConnection(result)
        switch result {
        case .withheld:
            // The log already says why (skipped), or the run is stopping and the row stays due.
            if !isStopping {
                counters.withLock { $0.skipped += 1 }
                report()
            }
        default:
            settle(DeliveryOutcome(
                day: day, subscriberID: row.subscriberID, result: outcome(of: result, attempts: row.attempts + 1, message: message), relay: relay))
        }
    }

    /// Opens the breaker after ``DeliverySettings/breakerThreshold`` connection failures or
    /// timeouts in a row; any answer from the server closes the count.
    private func trackConnection(_ result: TransportResult) {
        breaker.withLock { breaker in
            switch result {
            case .temporary(nil, let reply):
                breaker.failures += 1
                if breaker.failures >= settings.delivery.breakerThreshold, breaker.reason == nil {
                    breaker.reason = "\(breaker.failures) connection failures or timeouts in a row (the last: \(reply))"
                }
            case .withheld: break
            default: breaker.failures = 0
            }
        }
    }

    /// The retry policy: 4xx and connection trouble defer with exponential backoff until the
    /// last attempt; 5xx fails at once.
    private func outcome(of result: TransportResult, attempts: Int, message: OutgoingMessage) -> DeliveryOutcome.Result {
        switch result {
        case .accepted(let code, let reply):
            .sent(code: code, reply: reply, messageID: message.messageID, bytes: message.bytes.count)
        case .permanent(let code, let reply, let unknownUser):
            .failed(code: code, reply: reply, bounce: unknownUser)
        case .temporary(let code, let reply) where attempts >= settings.delivery.maxAttempts:
            .failed(code: code, reply: "gave up after \(attempts) attempts: \(reply)", bounce: false)
        case .temporary(let code, let reply):
            .deferred(code: code, reply: reply, nextAttempt: Date().addingTimeInterval(
                settings.delivery.retryBase.seconds * pow(2, Double(attempts - 1))))
        case .withheld(let reason):
            .skipped(reason: reason)
        }
    }

    /// Counts an outcome and hands it to the log.
    private func settle(_ outcome: DeliveryOutcome) {
        counters.withLock { progress in
            switch outcome.result {
            case .sent: progress.sent += 1
            case .deferred: progress.deferred += 1
            case .failed: progress.failed += 1
            case .skipped: progress.skipped += 1
            }
        }
        log.record(outcome)
        report()
    }

    private func report() {
        progressHandler(snapshot())
    }
}

/// Hands due rows to the lanes, reading the next ones before the current ones run out, so that
/// no lane waits for a query while it has messages to send.
actor Dispatcher {
    let run: Run
    let lowWater: Int
    private var rows: [DueMessage] = []
    private var refill: Task<[DueMessage], any Error>?
    private var exhausted = false

    init(run: Run, lowWater: Int) {
        self.run = run
        self.lowWater = lowWater
    }

    /// Up to `count` rows; none when nothing more is due or the run is stopping.
    func next(_ count: Int) async throws -> [DueMessage] {
        if run.isStopping { return [] }
        while rows.isEmpty {
            if exhausted { return [] }
            try await receive()
        }
        let batch = Array(rows.prefix(count))
        rows.removeFirst(batch.count)
        if rows.count < lowWater && refill == nil && !exhausted {
            startRefill()
        }
        return batch
    }

    private func receive() async throws {
        if refill == nil { startRefill() }
        guard let task = refill else { return }
        let claimed = try await task.value
        if refill == task {
            refill = nil
            rows += claimed
            if claimed.isEmpty { exhausted = true }
        }
    }

    private func startRefill() {
        let run = self.run
        let task = Task { try await run.readAhead() }
        refill = task
        Task {
            let claimed = (try? await task.value) ?? []
            self.delivered(task, claimed)
        }
    }

    private func delivered(_ task: Task<[DueMessage], any Error>, _ claimed: [DueMessage]) {
        guard refill == task else { return }
        refill = nil
        rows += claimed
        if claimed.isEmpty { exhausted = true }
    }
}

/// A due row, and its reader as they are now (`nil` when they are no longer active).
struct DueMessage: Sendable {
    var row: DueDelivery
    var recipient: Recipient?
}

extension Run {
    /// Reserves the next due rows after the last one read that no other sender holds, within
    /// the run's budget (`--limit`), with their readers; the queue filler adds rows first when
    /// the log has too few yet. A lost lease stops the run through the log writer.
    func readAhead() async throws -> [DueMessage] {
        let allowance = budget.withLock { remaining -> Int in
            let take = min(SendJob.readAhead, remaining)
            remaining -= take
            return take
        }
        guard allowance > 0 else { return [] }
        var rows: [DueDelivery]
        do {
            while true {
                let after = cursor.withLock { $0 }
                let frontier = await filler.frontier
                rows = try await deliveries.reserve(
                    lease, after: after, through: frontier, limit: allowance, includeDeferred: includeDeferred, only: only)
                if rows.count == allowance { break }
                if frontier != .max {
                    let nothingToRead = try await filler.fillNextPage()
                    counters.withLock { $0.due -= nothingToRead }
                    continue
                }
                // The end of the list: read it again from the start while rows come free.
                guard rows.isEmpty, try await nextPass() else { break }
                cursor.withLock { $0 = 0 }
            }
        } catch let error as DeliveryStoreError {
            log.fail("\(error)")
            rows = []
        }
        budget.withLock { $0 += allowance - rows.count }
        if let last = rows.last { cursor.withLock { $0 = last.subscriberID } }
        let readers = try await subscribers.recipients(ids: rows.map(\.subscriberID), RecipientFilter())
        return rows.map { DueMessage(row: $0, recipient: readers[$0.subscriberID]) }
    }
}

extension Run {
    /// Nothing more to reserve after the cursor: whether to read the list again from the
    /// start. Yes when rows came free (another sender stopped and gave its reservations back,
    /// or was taken over); while other senders still hold rows, waits for them, taking over
    /// any whose lease runs out.
    func nextPass() async throws -> Bool {
        while !isStopping {
            if takeovers.consumeFreed() { return true }
            let left = try await deliveries.outstanding(lease, includeDeferred: includeDeferred, only: only)
            if left.free > 0 { return true }
            if !left.heldByOthers { return false }
            try await Task.sleep(for: Takeovers.pollInterval)
            try await takeovers.run()
        }
        return false
    }
}

/// Takes over the other senders of a digest whose lease ran out, and keeps what that found:
/// the uncertain rows they left, and whether rows came free for a new pass over the list.
final class Takeovers: Sendable {
    /// How often a sender with nothing left to reserve looks at the others.
    static let pollInterval: Duration = .seconds(1)

    let deliveries: any DeliveryLog
    let lease: LeaseToken
    let resend: Bool
    private let state = Mutex<(uncertain: [Delivery], freed: Bool)>(([], false))

    init(deliveries: any DeliveryLog, lease: LeaseToken, resend: Bool) {
        self.deliveries = deliveries
        self.lease = lease
        self.resend = resend
    }

    func run() async throws {
        let taken = try await deliveries.takeOver(day: lease.day, owner: lease.owner, isAbandoned: LeaseOwner.isDead, resend: resend)
        guard taken.freed > 0 || !taken.uncertain.isEmpty else { return }
        state.withLock { state in
            state.uncertain += taken.uncertain
            state.freed = true
        }
    }

    /// The rows found uncertain so far.
    var uncertain: [Delivery] { state.withLock { $0.uncertain } }

    /// Whether a takeover freed rows since the last call.
    func consumeFreed() -> Bool {
        state.withLock { state in
            defer { state.freed = false }
            return state.freed
        }
    }
}

/// Who holds a send lease: `host pid N tag`. A lease held on this host by a process that no
/// longer exists was left by a crash and is taken over at once instead of after its expiry.
enum LeaseOwner {
    /// A new owner for each run, so that two runs in one process are two owners.
    static func make() -> String {
        "\(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier) \(UUID().uuidString.prefix(8))"
    }

    static func isDead(_ owner: String) -> Bool {
        let parts = owner.split(separator: " ")
        guard parts.count == 4, parts[0] == ProcessInfo.processInfo.hostName, parts[1] == "pid", let pid = Int32(parts[2]) else {
            return false
        }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}

/// Spaces messages so that no more than `perSecond` start in any second, across all lanes.
actor Pacer {
    nonisolated let interval: Duration
    private var next = ContinuousClock.now

    init(perSecond: Double) {
        interval = .seconds(1) / max(perSecond, 1e-9)
    }

    func wait() async {
        let slot = max(ContinuousClock.now, next)
        next = slot + interval
        try? await Task.sleep(until: slot, clock: .continuous)
    }
}
