import Foundation
import PaperPostCore

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

    public init(
        day: Day, envelopeSender: String, recipient: String, messageID: String, bytes: [UInt8], kind: String? = nil,
        preview: @escaping @Sendable () -> String? = { nil }
    ) {
        self.kind = kind
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
}

/// Where messages go. Two real implementations: ``SMTPTransport`` and ``OutboxTransport``.
public protocol MailTransport: Sendable {
    /// A short name for logs and summaries (`smtp://mail.example.org:587`, `outbox var/outbox`).
    var name: String { get }
    /// One sending lane: an SMTP connection kept open across messages, or a writer of files.
    /// Each lane sends one message at a time; parallelism comes from several lanes.
    func makeLane() throws -> any MailLane
}

public protocol MailLane: Sendable {
    /// Sends the messages one after another, in order. A batch crosses to the lane's own thread
    /// once, which matters at thousands of messages a second.
    func send(_ messages: [OutgoingMessage]) async -> [TransportResult]
}

/// Configuration that makes sending impossible (as opposed to a failed delivery).
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
