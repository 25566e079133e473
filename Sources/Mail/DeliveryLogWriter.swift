import Dispatch
import Foundation
import PaperPostCore
import PaperPostStore
import Synchronization

/// Writes one send's claims and outcomes to the delivery log in group commits.
///
/// Lanes hand in a claim right before a message goes out and an outcome as soon as the server
/// answered; the writer's own thread commits whatever has gathered in one transaction, then the
/// next. A claim is answered only after its transaction committed, and entries are written in
/// the order they came, so by the time a lane's next message is cleared to go, the outcome of
/// its previous one is durable. That is the crash bound the README states: at any moment at
/// most one row per lane is `sending`, and it is the message on that lane's wire.
///
/// The writer has a thread rather than a task because a lane waits for each claim: every hop
/// through the cooperative pool would sit on the critical path of every message.
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
        var finished = false
    }

    private let store: any DeliveryLog
    private let lease: LeaseToken
    private let leaseDuration: TimeInterval
    private let bouncePolicy: BouncePolicy
    private let state = Mutex(State())
    /// Signalled for every entry handed in, and once more by ``finish()``.
    private let wake = DispatchSemaphore(value: 0)
    /// The longest an accepted message's outcome waits for a claim to share its commit.
    static let outcomeDelay: DispatchTimeInterval = .milliseconds(2)

    init(store: any DeliveryLog, lease: LeaseToken, leaseDuration: TimeInterval, bouncePolicy: BouncePolicy) {
        self.store = store
        self.lease = lease
        self.leaseDuration = leaseDuration
        self.bouncePolicy = bouncePolicy
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
            wake.signal()
        }
        return handOver
    }

    func record(_ outcome: DeliveryOutcome) {
        // No wake-up of its own: the lane's next claim follows at once and carries this
        // outcome into the same commit, or the writer's short timeout commits it alone.
        state.withLock { state in
            guard state.failure == nil else {
                if case .sent = outcome.result { state.unrecorded += 1 }
                return
            }
            state.entries.append(.outcome(outcome))
        }
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
        wake.signal()
    }

    /// Writes on a thread of its own until ``finish()`` was called and everything handed in is
    /// written.
    func run() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                // Named from inside: on Linux, Foundation gives the kernel (`top -H`, `perf`) only
                // the name of the thread setting it, at most 15 bytes.
                Thread.current.name = "delivery-log"
                while flush() {}
                done.resume()
            }
            thread.start()
        }
    }

    /// No more entries will come; ``run()`` writes what is left and returns.
    func finish() {
        state.withLock { $0.finished = true }
        wake.signal()
    }

    /// Waits for entries and commits them. Returns false once finished and drained.
    ///
    /// Claims wake the writer; outcomes wait for the next claim (a lane claims its next message
    /// as soon as the previous one settled, so an outcome and the next claim usually share one
    /// commit) or for ``outcomeDelay``, whichever comes first.
    private func flush() -> Bool {
        _ = wake.wait(timeout: .now() + Self.outcomeDelay)
        // Claims that came during the last commit each left a signal, but one pass takes them
        // all: without this, every extra signal would make a pass of its own, committing alone
        // whatever outcome came in just before its lane's next claim (a fifth more commits).
        // A signal given after the entries are taken below is not lost: it wakes the next pass.
        while wake.wait(timeout: .now()) == .success {}
        let (entries, handOvers, failure, finished) = state.withLock { state in
            defer {
                state.entries.removeAll(keepingCapacity: true)
                state.handOvers.removeAll(keepingCapacity: true)
            }
            return (state.entries, state.handOvers, state.failure, state.finished)
        }
        if let failure {
            drop(entries, handOvers, reason: failure)
        } else if !entries.isEmpty {
            do {
                let decisions = try store.commit(entries, lease: lease, leaseDuration: leaseDuration, bouncePolicy: bouncePolicy)
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
        // Entries handed in after `finish()` cannot exist: every lane has returned by then.
        return !(finished && entries.isEmpty)
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
