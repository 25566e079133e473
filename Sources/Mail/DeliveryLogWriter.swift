import Foundation
import PaperPostCore
import PaperPostStore
import Synchronization

/// Writes one send's claims and outcomes to the delivery log in group commits.
///
/// Lanes hand in a claim right before a message goes out and an outcome as soon as the server
/// answered; one task writes whatever has gathered in one transaction, then the next. A claim
/// is answered only after its transaction committed, and entries are written in the order they
/// came, so by the time a lane's next message is cleared to go, the outcome of its previous one
/// is durable. That is the crash bound the README states: at any moment at most one row per
/// lane is `sending`, and it is the message on that lane's wire.
///
/// The first failed commit (the lease was taken over, the disk is full) stops the writer:
/// nothing of that transaction is written, every claim from then on is withheld, and the
/// accepted messages whose outcome could not be written are counted in ``unrecorded``; their
/// rows stay `sending`, which is what the next run treats as uncertain.
final class DeliveryLogWriter: Sendable {
    private struct State {
        var entries: [LogEntry] = []
        /// One per `.claim` in `entries`, in the same order.
        var handOvers: [HandOver] = []
        var failure: String?
        var unrecorded = 0
    }

    private let store: DeliveryStore
    private let lease: LeaseToken
    private let leaseDuration: TimeInterval
    private let bounceThreshold: Int
    private let state = Mutex(State())
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(store: DeliveryStore, lease: LeaseToken, leaseDuration: TimeInterval, bounceThreshold: Int) {
        self.store = store
        self.lease = lease
        self.leaseDuration = leaseDuration
        self.bounceThreshold = bounceThreshold
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks to move `row` to `sending`; the answer comes once that is committed.
    func claim(_ row: DueDelivery) -> HandOver {
        let handOver = HandOver()
        let failure = state.withLock { state -> String? in
            if let failure = state.failure { return failure }
            state.entries.append(.claim(row))
            state.handOvers.append(handOver)
            return nil
        }
        if let failure {
            handOver.decide(.withhold(failure))
        } else {
            wake.yield()
        }
        return handOver
    }

    func record(_ outcome: DeliveryOutcome) {
        let stopped = state.withLock { state -> Bool in
            guard state.failure == nil else {
                if case .sent = outcome.result { state.unrecorded += 1 }
                return true
            }
            state.entries.append(.outcome(outcome))
            return false
        }
        if !stopped { wake.yield() }
    }

    /// Why the writer stopped, if it did.
    var failure: String? { state.withLock { $0.failure } }

    /// Accepted messages whose `sent` could not be written.
    var unrecorded: Int { state.withLock { $0.unrecorded } }

    /// Stops the writer from outside (the lease heartbeat found the lease gone).
    func fail(_ reason: String) {
        state.withLock { state in
            if state.failure == nil { state.failure = reason }
        }
        wake.yield()
    }

    /// Writes until ``finish()`` was called and everything handed in is written.
    func run() async {
        for await _ in wakes {
            await flush()
        }
        await flush()
    }

    /// No more entries will come; ``run()`` writes what is left and returns.
    func finish() {
        wake.finish()
    }

    private func flush() async {
        let (entries, handOvers, failure) = state.withLock { state in
            defer {
                state.entries.removeAll(keepingCapacity: true)
                state.handOvers.removeAll(keepingCapacity: true)
            }
            return (state.entries, state.handOvers, state.failure)
        }
        if let failure {
            drop(entries, handOvers, reason: failure)
            return
        }
        guard !entries.isEmpty else { return }
        do {
            let decisions = try await store.commit(entries, lease: lease, leaseDuration: leaseDuration, bounceThreshold: bounceThreshold)
            for (handOver, decision) in zip(handOvers, decisions) {
                switch decision {
                case .send: handOver.decide(.send)
                case .withhold(let reason): handOver.decide(.withhold(reason))
                }
            }
        } catch {
            let reason = "\(error)"
            state.withLock { state in
                if state.failure == nil { state.failure = reason }
            }
            drop(entries, handOvers, reason: reason)
        }
    }

    /// Entries that will never be written: their claims are withheld, their accepted messages counted.
    private func drop(_ entries: [LogEntry], _ handOvers: [HandOver], reason: String) {
        for handOver in handOvers { handOver.decide(.withhold(reason)) }
        let lost = entries.filter { entry in
            if case .outcome(let outcome) = entry, case .sent = outcome.result { return true }
            return false
        }.count
        if lost > 0 { state.withLock { $0.unrecorded += lost } }
    }
}
