import Dispatch
import Foundation
import PaperPostCore
import Synchronization

/// SMTP through several relays at once, each with its own connections, rate cap and share.
///
/// Every relay has lanes of its own (its connections). A relay that refuses the connection or
/// answers 421 took nothing, so the message goes at once, under the same claim, to another
/// relay, and the failed one rests (30 s, doubling up to 10 min, back to 30 s after a success)
/// while its lanes wait. Only when every relay has refused a message is it deferred, and that
/// counts towards the send's circuit breaker as one connection failure would.
public struct RelayPool: MailTransport {
    let relays: [Relay]
    let transports: [SMTPTransport]
    /// Each relay's connections.
    let connections: [Int]
    let board: RelayBoard

    /// - Parameters:
    ///   - heloName: as for ``SMTPTransport/init(settings:heloName:)``.
    ///   - notice: told when a relay is rested and why, for the operator's log.
    /// - Throws: ``TransportError`` when no relay is configured.
    public init(settings: DeliverySettings, heloName: String? = nil, notice: @escaping @Sendable (String) -> Void = { _ in }) throws {
        guard !settings.relays.isEmpty else {
            throw TransportError(description: "no SMTP server is configured: set PAPERPOST_SMTP_URL, or use --transport outbox")
        }
        relays = settings.relays
        transports = try settings.relays.map { try SMTPTransport(settings: settings.only($0), heloName: heloName) }
        board = RelayBoard(
            relays: settings.relays.map { ($0.name, $0.weight ?? Double($0.connections ?? settings.connections), $0.rate) }, notice: notice)
        connections = settings.relays.map { $0.connections ?? settings.connections }
    }

    public var name: String { relays.map(\.name).joined(separator: ", ") }

    /// A lane for a single message (a notice): the first relay, or another while it rests.
    public func makeLane() throws -> any MailLane {
        PoolLane(home: 0, transports: transports, board: board)
    }

    public func makeLanes(connections _: Int) throws -> [any MailLane] {
        connections.enumerated().flatMap { relay, count in
            (0..<count).map { _ in PoolLane(home: relay, transports: transports, board: board) as any MailLane }
        }
    }

    /// What each relay did in this pool's sends so far, for the summary.
    public var report: [RelayReport] { board.report() }
}

/// One relay's part in a send.
public struct RelayReport: Sendable, Equatable {
    public var name: String
    /// Messages it accepted.
    public var accepted: Int
    /// Times it was rested, and the last reason.
    public var rests: Int
    public var lastFailure: String?
}

/// One lane of a pool: a connection to its own relay, and, when that relay rests, to the
/// others for the messages it already holds. `@unchecked Sendable`: the SMTP lanes are only
/// touched on `queue`, one batch at a time.
final class PoolLane: MailLane, @unchecked Sendable {
    let home: Int
    let transports: [SMTPTransport]
    let board: RelayBoard
    let queue = DispatchQueue(label: "paperpost.relay-pool.lane")
    private var lanes: [Int: SMTPTransport.Lane] = [:]

    init(home: Int, transports: [SMTPTransport], board: RelayBoard) {
        self.home = home
        self.transports = transports
        self.board = board
    }

    func admit(_ count: Int) async -> Bool {
        await board.admit(relay: home, count: count)
    }

    func close() {
        board.finish()
    }

    var batchLimit: Int? { board.isRateCapped(home) ? 1 : nil }

    func send(_ messages: [OutgoingMessage], settled: @escaping @Sendable (Int, TransportResult, String?) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                for (index, message) in messages.enumerated() {
                    let (result, relay) = self.transfer(message)
                    settled(index, result, relay)
                }
                continuation.resume()
            }
        }
    }

    /// One message: claimed once, then tried on the home relay (or, while it rests, the one
    /// furthest behind its share), and on the next relay for as long as relays refuse it.
    private func transfer(_ message: OutgoingMessage) -> (TransportResult, String?) {
        let handOver = message.claim?()
        if case .withhold(let reason) = handOver?.decision {
            return (.withheld(reason: reason), nil)
        }
        var tried: Set<Int> = []
        var refusals: [String] = []
        var relay = board.route(from: home)
        while true {
            board.pace(relay)
            let attempt: SMTPTransport.Attempt
            do {
                attempt = try lane(relay).attempt(message, handOver: handOver)
            } catch {
                return (.temporary(code: nil, reply: "\(error)"), board.name(relay))
            }
            guard attempt.relayDown else {
                if case .accepted = attempt.result { board.accepted(by: relay) }
                return (attempt.result, board.name(relay))
            }
            let reply = Self.reply(attempt.result)
            board.rest(relay, reason: reply)
            tried.insert(relay)
            refusals.append("\(board.name(relay)): \(reply)")
            guard let next = board.fallback(excluding: tried) else {
                return (.temporary(code: nil, reply: "no relay took it (" + refusals.joined(separator: "; ") + ")"), board.name(relay))
            }
            relay = next
        }
    }

    private func lane(_ relay: Int) throws -> SMTPTransport.Lane {
        if let lane = lanes[relay] { return lane }
        let lane = try transports[relay].makeSMTPLane()
        lanes[relay] = lane
        return lane
    }

    private static func reply(_ result: TransportResult) -> String {
        switch result {
        case .temporary(_, let reply), .permanent(_, let reply, _): reply
        case .accepted(_, let reply): reply ?? "accepted"
        case .withheld(let reason): reason
        }
    }
}

/// The pool's shared view of its relays: their shares, rests and rate caps.
///
/// Shares follow stride scheduling: a relay's `pass` grows by `messages / weight` as its lanes
/// take messages, and a lane may take more only while its relay's pass is not ahead of the
/// lowest pass among the relays that are up. So while every relay keeps up, each carries its
/// weight's share; a relay that cannot keep up holds the others to its pace (a weight is a
/// promise of share, not a hint), except one waiting at its rate cap, which is owed nothing
/// meanwhile. A resting relay is left out, and comes back level with the others rather than
/// owed what it missed.
final class RelayBoard: Sendable {
    struct Member {
        var name: String
        var weight: Double
        var pace: Duration?
        var pass = 0.0
        var restingUntil: ContinuousClock.Instant?
        /// Rests in a row without an accepted message between them: the next rest doubles.
        var restsInARow = 0
        var rests = 0
        var lastFailure: String?
        var accepted = 0
        var nextSlot = ContinuousClock.now
    }

    private struct State {
        var relays: [Member]
        var waiters: [(relay: Int, count: Int, continuation: CheckedContinuation<Bool, Never>)] = []
        var finished = false
    }

    static let firstRest: Duration = .seconds(30)
    static let longestRest: Duration = .seconds(600)

    private let state: Mutex<State>
    private let notice: @Sendable (String) -> Void

    init(relays: [(name: String, weight: Double, rate: Double?)], notice: @escaping @Sendable (String) -> Void) {
        state = Mutex(State(relays: relays.map { Member(name: $0.name, weight: $0.weight, pace: $0.rate.map { .seconds(1) / $0 }) }))
        self.notice = notice
    }

    func name(_ relay: Int) -> String { state.withLock { $0.relays[relay].name } }

    func isRateCapped(_ relay: Int) -> Bool { state.withLock { $0.relays[relay].pace != nil } }

    /// Waits for the relay's turn to take `count` messages; `false` once the send is over.
    func admit(relay: Int, count: Int) async -> Bool {
        await withCheckedContinuation { continuation in
            let answer = state.withLock { state -> Bool? in
                if state.finished { return false }
                state.waiters.append((relay, count, continuation))
                return nil
            }
            if let answer {
                continuation.resume(returning: answer)
            } else {
                reconsider()
            }
        }
    }

    /// Nothing more is due: every waiting lane is let go, and no more are admitted.
    func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(returning: false) }
    }

    /// The relay a message goes to first: its lane's own, unless that one rests and another is up.
    func route(from home: Int) -> Int {
        state.withLock { state in
            let now = ContinuousClock.now
            guard Self.isResting(state.relays[home], now) else { return home }
            return Self.behind(state.relays, now, excluding: []) ?? home
        }
    }

    /// The relay furthest behind its share that is up and has not refused this message yet.
    func fallback(excluding tried: Set<Int>) -> Int? {
        state.withLock { state in Self.behind(state.relays, .now, excluding: tried) }
    }

    /// Blocks the lane's thread until the relay's rate cap allows the next message.
    func pace(_ relay: Int) {
        let slot = state.withLock { state -> ContinuousClock.Instant? in
            guard let pace = state.relays[relay].pace else { return nil }
            let slot = max(ContinuousClock.now, state.relays[relay].nextSlot)
            state.relays[relay].nextSlot = slot + pace
            return slot
        }
        guard let slot else { return }
        // The relay's next slot is now in the future: lanes held back for its share may go.
        reconsider()
        let wait = slot - .now
        if wait > .zero {
            Thread.sleep(forTimeInterval: wait.seconds)
        }
    }

    func accepted(by relay: Int) {
        state.withLock { state in
            state.relays[relay].accepted += 1
            state.relays[relay].restsInARow = 0
        }
    }

    /// Takes the relay out of the pool for a while; its lanes wait, its messages go elsewhere.
    func rest(_ relay: Int, reason: String) {
        let (rested, name, until) = state.withLock { state -> (Duration?, String, ContinuousClock.Instant) in
            let now = ContinuousClock.now
            if let until = state.relays[relay].restingUntil, until > now {
                // Another lane found it down already.
                return (nil, state.relays[relay].name, until)
            }
            let rest = min(Self.longestRest, Self.firstRest * (1 << min(state.relays[relay].restsInARow, 10)))
            state.relays[relay].restingUntil = now + rest
            state.relays[relay].restsInARow += 1
            state.relays[relay].rests += 1
            state.relays[relay].lastFailure = reason
            return (rest, state.relays[relay].name, now + rest)
        }
        guard let rested else { return }
        notice("relay \(name) rested for \(Int(rested.seconds)) s: \(reason); its messages go to the other relays")
        Task { [weak self] in
            try? await Task.sleep(until: until, clock: .continuous)
            self?.reconsider()
        }
        reconsider()
    }

    func report() -> [RelayReport] {
        state.withLock { state in
            state.relays.map { RelayReport(name: $0.name, accepted: $0.accepted, rests: $0.rests, lastFailure: $0.lastFailure) }
        }
    }

    /// Admits every waiting lane whose relay's turn it is, in the order they came.
    private func reconsider() {
        let admitted = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            let now = ContinuousClock.now
            Self.wake(&state.relays, now)
            var admitted: [CheckedContinuation<Bool, Never>] = []
            var index = 0
            while index < state.waiters.count {
                let waiter = state.waiters[index]
                if Self.mayTake(waiter.relay, state.relays, now) {
                    state.relays[waiter.relay].pass += Double(waiter.count) / state.relays[waiter.relay].weight
                    admitted.append(waiter.continuation)
                    state.waiters.remove(at: index)
                    index = 0
                } else {
                    index += 1
                }
            }
            return admitted
        }
        for continuation in admitted { continuation.resume(returning: true) }
    }

    private static func isResting(_ relay: Member, _ now: ContinuousClock.Instant) -> Bool {
        relay.restingUntil.map { $0 > now } ?? false
    }

    /// Relays whose rest is over rejoin level with the lowest pass among those up.
    private static func wake(_ relays: inout [Member], _ now: ContinuousClock.Instant) {
        for index in relays.indices {
            guard let until = relays[index].restingUntil, until <= now else { continue }
            relays[index].restingUntil = nil
            let level = relays.indices.filter { $0 != index && !isResting(relays[$0], now) }.map { relays[$0].pass }.min()
            relays[index].pass = max(relays[index].pass, level ?? relays[index].pass)
        }
    }

    /// A relay may take more while it is up and not ahead of the lowest pass among the others
    /// that are up and have room: a relay at its rate cap (its next slot still to come) is not
    /// owed its share, or one rate-capped relay would hold the whole pool to its pace. When
    /// every relay rests, each may try (a failure then counts towards the breaker).
    private static func mayTake(_ relay: Int, _ relays: [Member], _ now: ContinuousClock.Instant) -> Bool {
        let up = relays.indices.filter { !isResting(relays[$0], now) }
        guard !up.isEmpty else { return true }
        guard up.contains(relay) else { return false }
        let contenders = up.filter { $0 == relay || !isAtRateCap(relays[$0], now) }
        guard let lowest = contenders.map({ relays[$0].pass }).min() else { return true }
        return relays[relay].pass <= lowest
    }

    private static func isAtRateCap(_ relay: Member, _ now: ContinuousClock.Instant) -> Bool {
        relay.pace != nil && relay.nextSlot > now
    }

    private static func behind(_ relays: [Member], _ now: ContinuousClock.Instant, excluding tried: Set<Int>) -> Int? {
        relays.indices.filter { !tried.contains($0) && !isResting(relays[$0], now) }.min { relays[$0].pass < relays[$1].pass }
    }
}
