import Dispatch
import Foundation
import PaperPostCore
import Synchronization

/// A message on its way out.
public struct OutgoingMessage: Sendable {
    public var day: Day
    public var envelopeSender: String
    public var recipient: String
    public var messageID: String
    /// The whole RFC 5322 message with CRLF line ends.
    public var bytes: [UInt8]
    /// The HTML part as the reader sees it, for transports that keep a preview.
    public var preview: @Sendable () -> String?
    /// What kind of mail this is when it is not the day's digest (`confirm`), for transports
    /// that keep files: a notice must not overwrite the reader's digest of the same day.
    public var kind: String?
    /// For a logged delivery: called by the lane right before it starts the transfer, to have
    /// the log mark the row `sending`. The lane withholds the message's end (the SMTP dot, the
    /// outbox file's rename) until the answer says `send`, so a message is never handed over
    /// before its row is durably `sending`, and a row is `sending` only while its message is on
    /// the wire. `nil` for mail that is not logged (notices).
    public var claim: (@Sendable () -> HandOver)?

    public init(
        day: Day, envelopeSender: String, recipient: String, messageID: String, bytes: [UInt8], kind: String? = nil,
        claim: (@Sendable () -> HandOver)? = nil, preview: @escaping @Sendable () -> String? = { nil }
    ) {
        self.kind = kind
        self.claim = claim
        self.day = day
        self.envelopeSender = envelopeSender
        self.recipient = recipient
        self.messageID = messageID
        self.bytes = bytes
        self.preview = preview
    }
}

/// How one attempt to hand a message over ended.
public enum TransportResult: Sendable, Equatable {
    /// The server took responsibility for the message (250 after DATA), or it was written.
    case accepted(code: Int?, reply: String?)
    /// Worth trying again later: a 4xx reply, or the connection failed.
    case temporary(code: Int?, reply: String)
    /// Trying again will not help: a 5xx reply. `unknownUser` marks the replies that say the
    /// address does not exist, which count as a hard bounce.
    case permanent(code: Int, reply: String, unknownUser: Bool)
    /// Not handed over: the delivery log said no at the last moment (the reader unsubscribed
    /// meanwhile, or this sender lost its lease or cannot write the log).
    case withheld(reason: String)
}

/// The delivery log's answer to one claim, awaited by a lane before it hands a message over.
///
/// A lane waits either by blocking its own thread (SMTP: inside libcurl's read callback, never
/// on Swift's cooperative pool) or asynchronously (the outbox, which runs on the pool).
public final class HandOver: Sendable {
    public enum Decision: Sendable, Equatable {
        case send
        case withhold(String)
    }

    private let state = Mutex<(decision: Decision?, waiters: [CheckedContinuation<Decision, Never>])>((nil, []))
    /// Signalled once when decided; a blocking waiter passes the signal on.
    private let signal = DispatchSemaphore(value: 0)

    public init() {}

    /// An answer known at once (a sender that already stopped).
    public convenience init(_ decision: Decision) {
        self.init()
        decide(decision)
    }

    /// Answers the claim; later calls change nothing.
    public func decide(_ decision: Decision) {
        let waiters = state.withLock { state -> [CheckedContinuation<Decision, Never>]? in
            guard state.decision == nil else { return nil }
            state.decision = decision
            defer { state.waiters = [] }
            return state.waiters
        }
        guard let waiters else { return }
        for waiter in waiters { waiter.resume(returning: decision) }
        signal.signal()
    }

    /// The answer if there is one yet.
    public var decision: Decision? { state.withLock { $0.decision } }

    /// Blocks the calling thread until the answer comes. Never call it on the cooperative pool.
    public func wait() -> Decision {
        if let decision { return decision }
        signal.wait()
        signal.signal()
        return decision ?? .withhold("no answer")
    }

    /// Suspends until the answer comes.
    public func value() async -> Decision {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Decision? in
                if let decision = state.decision { return decision }
                state.waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}

/// Where messages go. Two real implementations: ``SMTPTransport`` and ``OutboxTransport``.
public protocol MailTransport: Sendable {
    /// A short name for logs and summaries (`smtp://mail.example.org:587`, `outbox var/outbox`).
    var name: String { get }
    /// One sending lane: an SMTP connection kept open across messages, or a writer of files.
    /// Each lane sends one message at a time; parallelism comes from several lanes.
    func makeLane() throws -> any MailLane
    /// The lanes of one send. A single destination has `connections` of them; a pool of relays
    /// as many as its relays' connections add up to.
    func makeLanes(connections: Int) throws -> [any MailLane]
}

extension MailTransport {
    public func makeLanes(connections: Int) throws -> [any MailLane] {
        try (0..<max(1, connections)).map { _ in try makeLane() }
    }
}

public protocol MailLane: Sendable {
    /// Sends the messages one after another, in order. A batch crosses to the lane's own thread
    /// once, which matters at thousands of messages a second.
    ///
    /// - Parameter settled: called with each message's index, its result and the relay that
    ///   gave it (`nil` for the outbox) as soon as it is known, before the next message starts
    ///   (on the lane's thread), so the sender logs an accepted message at once and its circuit
    ///   breaker sees every failure as it happens.
    func send(_ messages: [OutgoingMessage], settled: @escaping @Sendable (Int, TransportResult, String?) -> Void) async

    /// Waits until this lane may take `count` more messages: a relay pool holds each relay to
    /// its share and keeps a resting relay's lanes idle. `false`: the send is over, take no more.
    func admit(_ count: Int) async -> Bool

    /// This lane takes no more messages because nothing more is due: lanes waiting in
    /// ``admit(_:)`` are let go.
    func close()

    /// The most messages this lane should take at once (a relay with a rate cap: one, so that
    /// a slow relay does not sit on messages the others could send); `nil`: no limit of its own.
    var batchLimit: Int? { get }
}

extension MailLane {
    public func admit(_ count: Int) async -> Bool { true }
    public func close() {}
    public var batchLimit: Int? { nil }

    /// The results in order, for callers that only need them at the end (notices).
    public func send(_ messages: [OutgoingMessage]) async -> [TransportResult] {
        let results = Mutex([TransportResult?](repeating: nil, count: messages.count))
        await send(messages) { index, result, _ in results.withLock { $0[index] = result } }
        return results.withLock { $0.map { $0 ?? .temporary(code: nil, reply: "not attempted") } }
    }
}

/// Configuration that makes sending impossible (as opposed to a failed delivery).
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
