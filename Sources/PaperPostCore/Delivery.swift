import Foundation

/// One digest's email to one subscriber, as the delivery log knows it.
public struct Delivery: Sendable, Hashable {
    /// `queued → sending → sent`, or `deferred` (will be retried), `failed` (will not), `skipped`
    /// (not sent on purpose: nothing in their categories, or not active).
    public enum State: String, Sendable, Hashable, CaseIterable, Codable {
        case queued, sending, sent, deferred, failed, skipped
        /// Accepted by the relay, then returned: a bounce read back by `paperpost inbound`.
        case bounced
    }

    public var day: Day
    public var subscriberID: Int64
    public var email: String
    public var state: State
    public var attempts: Int
    /// The SMTP reply code and text of the last attempt (or the transport's own words).
    public var lastCode: Int?
    public var lastReply: String?
    public var messageID: String?
    /// The relay that gave the last answer (`smtp://host:port`); `nil` for the outbox.
    public var relay: String?
    /// The send (`host pid N tag`) that holds or last held the row: it reserved it, then claimed it.
    public var sender: String?
    public var bytes: Int?
    public var nextAttemptAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var sentAt: Date?

    public init(
        day: Day, subscriberID: Int64, email: String, state: State, attempts: Int, lastCode: Int?, lastReply: String?,
        messageID: String?, bytes: Int?, nextAttemptAt: Date?, createdAt: Date, updatedAt: Date, sentAt: Date?, relay: String? = nil, sender: String? = nil
    ) {
        self.relay = relay
        self.sender = sender
        self.day = day
        self.subscriberID = subscriberID
        self.email = email
        self.state = state
        self.attempts = attempts
        self.lastCode = lastCode
        self.lastReply = lastReply
        self.messageID = messageID
        self.bytes = bytes
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sentAt = sentAt
    }
}
