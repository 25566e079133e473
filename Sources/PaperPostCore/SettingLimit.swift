/// The numbers a setting may take.
///
/// One table, read both by ``Settings/load(environment:configFile:warn:)`` and by the flags that
/// override the variables, so that `--rate` and `PAPERPOST_SEND_RATE` refuse the same values
/// with the same words. The bounds keep every value where the code using it is safe (a rate of
/// `1e-20` once overflowed the pacer; 100,000 SMTP connections hung the send) and where an
/// operator plausibly meant it.
public struct SettingLimit: Sendable {
    public let range: ClosedRange<Double>
    /// Only whole numbers (counts, days).
    public let wholeNumber: Bool
    /// What the number is, for the refusal: "seconds", "SMTP connections in parallel".
    public let meaning: String

    public init(_ range: ClosedRange<Double>, wholeNumber: Bool = false, _ meaning: String) {
        self.range = range
        self.wholeNumber = wholeNumber
        self.meaning = meaning
    }

    /// `value` when it is allowed.
    ///
    /// - Parameters:
    ///   - name: the variable or flag it came from, named in the error.
    ///   - text: the value as it was typed, for the error; by default `value` written out.
    /// - Throws: ``ConfigurationError`` naming `name`, the value and the range.
    public func check(_ value: Double, name: String, as text: String? = nil) throws(ConfigurationError) -> Double {
        guard range.contains(value), !wholeNumber || value == value.rounded() else {
            throw ConfigurationError(
                "\(name): '\(text ?? Self.plain(value))' is not \(wholeNumber ? "a whole number" : "a number") "
                    + "from \(Self.plain(range.lowerBound)) to \(Self.plain(range.upperBound)) (\(meaning))")
        }
        return value
    }

    /// Parses `text` as a setting's value (`1e3`, `0.5`; whole numbers where required).
    public func parse(_ text: String, name: String) throws(ConfigurationError) -> Double {
        try check(Double(text) ?? .nan, name: name, as: text)
    }

    /// ``parse(_:name:)`` for settings that count things.
    public func parseInteger(_ text: String, name: String) throws(ConfigurationError) -> Int {
        Int(try parse(text, name: name))
    }

    /// `100000` rather than `100000.0`; `0.01` as it is.
    static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

extension SettingLimit {
    public static let arxivDelay = SettingLimit(0...3_600, "seconds between two requests to arXiv")
    public static let httpMaxBytes = SettingLimit(1_024...1_073_741_824, wholeNumber: true, "bytes of one HTTP response body")
    public static let llmPrice = SettingLimit(0...1_000_000, "price per million tokens")
    public static let llmMaxCost = SettingLimit(0...1_000_000_000, "the most one digest day may spend on the model")
    public static let llmConcurrency = SettingLimit(1...64, wholeNumber: true, "requests to the model in flight at once")
    public static let llmTimeout = SettingLimit(1...3_600, "seconds one request may take")
    public static let llmRetryDelay = SettingLimit(0...3_600, "seconds before the first retry")
    public static let llmDeadline = SettingLimit(1...86_400, "seconds one run may spend with the model")
    public static let smtpConnectTimeout = SettingLimit(1...600, "seconds to connect")
    public static let smtpTimeout = SettingLimit(1...3_600, "seconds for one message")
    public static let smtpConnections = SettingLimit(1...64, wholeNumber: true, "SMTP connections in parallel")
    public static let sendRate = SettingLimit(0.01...100_000, "messages per second; without it, no limit")
    public static let retryBase = SettingLimit(1...86_400, "seconds before the first retry of a deferred message")
    public static let maxAttempts = SettingLimit(1...100, wholeNumber: true, "attempts before a message fails")
    public static let bounceThreshold = SettingLimit(1...100, wholeNumber: true, "bounce score: 1 a hard bounce, 0.5 a soft one")
    public static let bounceResetDays = SettingLimit(1...3650, wholeNumber: true, "days without a bounce before the score resets")
    public static let sendLease = SettingLimit(1...86_400, "seconds a send's lease lasts without renewal")
    public static let relayWeight = SettingLimit(0.01...10_000, "a relay's share of the messages, relative to the other relays'")
    public static let smtpBreaker = SettingLimit(1...10_000, wholeNumber: true, "connection failures in a row before a send stops")
    public static let confirmDays = SettingLimit(1...365, wholeNumber: true, "days a confirmation link works")
    public static let subscribeLimitClient = SettingLimit(1...100_000, wholeNumber: true, "sign-ups per client address per hour")
    public static let subscribeLimitAddress = SettingLimit(1...1_000, wholeNumber: true, "confirmation mails per address per day")
}
