/// How often a reader gets the digest: every announcement day, or once a week on the weekday
/// they chose, as the best of that week's papers for them.
public enum Schedule: Sendable, Hashable {
    case daily
    /// 2 (Monday) … 6 (Friday), as ``Day/weekday`` counts: arXiv announces on weekdays only,
    /// so a weekly edition goes out on one of them.
    case weekly(weekday: Int)

    static let names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// `daily`, or `weekly:mon`: how the CSV, the CLI and the store spell it.
    public var description: String {
        switch self {
        case .daily: "daily"
        case .weekly(let weekday): "weekly:\(Self.names[weekday - 1])"
        }
    }

    /// Parses `daily`, `weekly` (Monday), `weekly:fri` or `weekly:friday` (any case).
    ///
    /// - Throws: ``InputError/invalidValue(field:value:reason:)`` for the field `schedule`.
    public init(parsing text: String) throws(InputError) {
        let lowered = text.trimmingSpaces().lowercased()
        if lowered == "daily" {
            self = .daily
            return
        }
        let parts = lowered.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.first == "weekly" else {
            throw .invalidValue(field: "schedule", value: text, reason: "is not daily, weekly or weekly:DAY (weekly:mon … weekly:fri)")
        }
        guard parts.count == 2 else {
            self = .weekly(weekday: 2)
            return
        }
        guard let index = Self.names.firstIndex(where: { parts[1] == $0 || parts[1].hasPrefix($0) && parts[1].count > 3 }) else {
            throw .invalidValue(field: "schedule", value: text, reason: "'\(parts[1])' is not a weekday (mon, tue, wed, thu, fri)")
        }
        guard (2...6).contains(index + 1) else {
            throw .invalidValue(field: "schedule", value: text, reason: "arXiv announces on weekdays only: choose mon, tue, wed, thu or fri")
        }
        self = .weekly(weekday: index + 1)
    }

    /// The schedules that give a reader an edition on `day`.
    public static func due(on day: Day) -> [Schedule] {
        (2...6).contains(day.weekday) ? [.daily, .weekly(weekday: day.weekday)] : [.daily]
    }

    /// Whether a reader on this schedule gets an edition on `day`.
    public func isDue(on day: Day) -> Bool {
        switch self {
        case .daily: true
        case .weekly(let weekday): day.weekday == weekday
        }
    }
}
