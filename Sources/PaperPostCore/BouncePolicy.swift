import Foundation

/// When bounces make a subscriber `bounced`: a score, as Mailman 3 keeps one, rather than a
/// counter, so that a mailbox that was full for a week in March does not count against the
/// reader in June.
///
/// A hard bounce (the address does not exist) adds 1, a soft one (full mailbox, a policy
/// block) 0.5; only the first bounce of a day counts, so one outage that returns ten messages
/// is one event. After ``resetDays`` without a bounce the score starts again from zero. At
/// ``threshold`` an active subscriber becomes `bounced`.
public struct BouncePolicy: Sendable, Hashable {
    public var threshold: Double
    public var resetDays: Int

    public init(threshold: Double = 3, resetDays: Int = 30) {
        self.threshold = threshold
        self.resetDays = resetDays
    }

    public static let hardWeight = 1.0
    public static let softWeight = 0.5

    /// The score after a bounce of `weight` at `now`, given the score and the last bounce
    /// before it; `nil` when a bounce already counted that day (UTC), so nothing changes.
    public func score(_ score: Double, lastBounceAt: Date?, adding weight: Double, now: Date) -> Double? {
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        guard let last = lastBounceAt else { return score + weight }
        if utc.isDate(last, inSameDayAs: now) { return nil }
        return (now.timeIntervalSince(last) >= Double(resetDays) * 86_400 ? 0 : score) + weight
    }
}
