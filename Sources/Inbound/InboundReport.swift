/// What one inbound message is, and what it says about which recipients.
public struct InboundReport: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A delivery failed (or was delayed): a DSN or an MTA's own wording.
        case bounce
        /// A spam complaint from a feedback loop (ARF, or a provider's JSON notification).
        case complaint
        /// A reader asked to leave by mailing the `List-Unsubscribe` `mailto:`.
        case unsubscribe
        /// "I am out of the office": nothing about the address.
        case autoReply = "auto_reply"
        /// A DSN that reports success (`Action: delivered`, relayed, expanded).
        case delivered
        /// Anything else: kept for a person to read.
        case other
    }

    public var kind: Kind
    public var recipients: [BounceRecipient]
    /// ARF's Feedback-Type (`abuse`, `opt-out`, …) for complaints.
    public var feedbackType: String?
    /// The Message-ID of the message the report is about, when it is quoted.
    public var originalMessageID: String?
    /// Addresses this message was sent to (To, Delivered-To, X-Original-To…): where a VERP
    /// token is found.
    public var envelopeRecipients: [String]
    public var from: String?
    public var subject: String?
    /// For unsubscribe requests: the token after "unsubscribe" in the subject.
    public var unsubscribeToken: String?
    /// Why a message is `other`, or what was odd about it.
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case kind, recipients, from, subject, note
        case feedbackType = "feedback_type"
        case originalMessageID = "original_message_id"
        case envelopeRecipients = "envelope_recipients"
        case unsubscribeToken = "unsubscribe_token"
    }
}

/// One recipient a bounce or complaint is about.
public struct BounceRecipient: Sendable, Hashable, Codable {
    public var address: String
    /// Enhanced status code (RFC 3463): the message's own, or ``statusInferred`` from the reason.
    public var status: String
    public var statusInferred: Bool
    /// The SMTP reply code the receiving server gave, `""` when the bounce quotes none.
    public var replyCode: String
    public var reason: FailureReason
    /// Whether the address itself is bad (counts 1 towards the bounce threshold, soft 0.5).
    public var hard: Bool
    /// Whether the failure is final (a `5`) rather than a delay (`4`).
    public var permanent: Bool
    public var diagnostic: String

    enum CodingKeys: String, CodingKey {
        case address, status, reason, hard, permanent, diagnostic
        case statusInferred = "status_inferred"
        case replyCode = "reply_code"
    }
}
