import PaperPostCore
import Synchronization

/// Why curation gave up on the model for the rest of the run.
public struct ModelStop: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Cause: String, Sendable {
        /// The endpoint refused the key, the model or the account: nothing would work.
        case configuration
        /// Several calls in a row failed (429, 5xx, timeouts): the circuit breaker opened.
        case unavailable
        /// The run's time with the model (`PAPERPOST_LLM_DEADLINE`) ran out.
        case deadline
    }

    public var cause: Cause
    /// What happened, naming the variable to fix where there is one.
    public var description: String
}

/// Decides whether another call to the model may start: the first configuration refusal stops
/// everything, `breakerThreshold` availability failures in a row open the circuit breaker,
/// and nothing starts after the deadline. Shared by every call of a run, so concurrent batches
/// stop together instead of each spending its own retries on a dead endpoint.
actor ModelGate {
    let deadline: ContinuousClock.Instant
    let deadlineSetting: Duration
    static let breakerThreshold = 4
    private var consecutiveFailures = 0
    private(set) var stop: ModelStop? {
        didSet { stopped.raised.withLock { $0 = stop != nil } }
    }
    private let stopped = Flag()
    private var probe: Task<Void, Never>?

    init(deadline: Duration) {
        self.deadline = ContinuousClock.now + deadline
        self.deadlineSetting = deadline
    }

    /// The time the next call may take, or the reason it may not be made.
    func admit(timeout: Duration) -> Result<Duration, ModelStop> {
        if let stop { return .failure(stop) }
        let left = deadline - ContinuousClock.now
        guard left > .zero else {
            let stop = ModelStop(
                cause: .deadline,
                description: "the model did not finish within PAPERPOST_LLM_DEADLINE (\(deadlineSetting.components.seconds) s); "
                    + "raise it if the endpoint is just slow")
            self.stop = stop
            return .failure(stop)
        }
        return .success(min(timeout, left))
    }

    func succeeded() {
        consecutiveFailures = 0
    }

    /// Records a failed call; returns the stop it caused, if any.
    @discardableResult
    func failed(_ error: LLMError) -> ModelStop? {
        switch error.kind {
        case .configuration:
            if stop == nil || stop?.cause != .configuration {
                stop = ModelStop(cause: .configuration, description: error.description)
            }
        case .unavailable, .unusable:
            // An endpoint answering only HTML pages or empty content is as dead as one answering 502.
            consecutiveFailures += 1
            if consecutiveFailures >= Self.breakerThreshold, stop == nil {
                stop = ModelStop(
                    cause: .unavailable,
                    description: "\(consecutiveFailures) calls to the model failed in a row; last: \(error.description)")
            }
        }
        return stop
    }

    /// Stops the run for a reason found outside a call (a deadline seen while waiting to retry).
    func halt(_ stop: ModelStop) {
        if self.stop == nil { self.stop = stop }
    }

    var timeLeft: Duration { deadline - ContinuousClock.now }

    /// Starts `check` beside the run's first call, once; the calls do not wait for it.
    func probeOnce(_ check: @escaping @Sendable () async -> Void) {
        guard probe == nil else { return }
        probe = Task { await check() }
    }

    /// Waits for the probe, if one was started, so its verdict and ledger rows are in.
    func probeFinished() async {
        await probe?.value
    }

    /// True once the run stopped: calls still waiting on the endpoint give up (polled by the
    /// transfer, so a probe that found the endpoint dead ends the calls that hang on it).
    nonisolated var hasStopped: @Sendable () -> Bool {
        { [stopped] in stopped.raised.withLock { $0 } }
    }

    /// A flag a transfer's thread can read without awaiting the actor.
    private final class Flag: Sendable {
        let raised = Mutex(false)
    }
}
