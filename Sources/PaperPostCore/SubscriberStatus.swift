/// Where a subscriber stands. Only `active` subscribers receive digests.
///
/// `unsubscribed` and `bounced` are suppression states: an import never moves an address out
/// of them unless the operator says so explicitly.
public enum SubscriberStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case pending
    case active
    case paused
    case unsubscribed
    case bounced

    /// Whether the address must not be mailed again without the person's own new consent.
    public var isSuppressed: Bool {
        self == .unsubscribed || self == .bounced
    }

    /// Parses a status name (any case).
    ///
    /// - Throws: ``InputError/invalidStatus(_:)`` naming the value.
    public init(parsing text: String) throws(InputError) {
        guard let status = SubscriberStatus(rawValue: text.lowercased()) else {
            throw .invalidStatus(text)
        }
        self = status
    }
}
