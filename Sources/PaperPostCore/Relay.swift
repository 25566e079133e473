import Foundation

/// One SMTP relay of a pool: where it is, and how much of a send it may carry.
///
/// A relay is written as its URL, with PaperPost's own settings for it as query parameters,
/// which libcurl never sees: `smtp://mail-a.example.org:587?connections=8&rate=50&weight=3`.
public struct Relay: Sendable, Hashable {
    /// The URL libcurl connects to, without PaperPost's parameters (user and password, when
    /// the relay has its own, stay in it).
    public var url: String
    /// SMTP connections to this relay in parallel; `nil`: `PAPERPOST_SMTP_CONNECTIONS`.
    public var connections: Int?
    /// At most this many messages per second through this relay.
    public var rate: Double?
    /// This relay's share of the messages while every relay is up, relative to the others';
    /// `nil`: its number of connections, so that by default each relay carries what its
    /// connections can.
    public var weight: Double?

    public init(url: String, connections: Int? = nil, rate: Double? = nil, weight: Double? = nil) {
        self.url = url
        self.connections = connections
        self.rate = rate
        self.weight = weight
    }

    /// How logs and the delivery log name the relay: scheme, host and port, never a password.
    public var name: String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return url }
        let port = components.port ?? (scheme.lowercased() == "smtps" ? 465 : 25)
        return "\(scheme.lowercased())://\(host):\(port)"
    }

    /// Parses one relay as ``Relay`` describes it.
    ///
    /// - Parameter origin: where the text came from (`PAPERPOST_SMTP_URL`, `relays.txt:3`), for the error.
    /// - Throws: ``ConfigurationError`` naming `origin` and what is wrong.
    public static func parse(_ text: String, origin: String) throws(ConfigurationError) -> Relay {
        guard var components = URLComponents(string: text), ["smtp", "smtps"].contains(components.scheme?.lowercased() ?? ""),
            components.host?.isEmpty == false
        else {
            throw ConfigurationError("\(origin): '\(text)' is not an smtp:// or smtps:// URL such as smtp://mail.example.org:587")
        }
        var relay = Relay(url: text)
        for item in components.queryItems ?? [] {
            let name = "\(origin): \(item.name)"
            guard let value = item.value, !value.isEmpty else {
                throw ConfigurationError("\(name): no value (connections=N, rate=N or weight=N)")
            }
            switch item.name {
            case "connections": relay.connections = try SettingLimit.smtpConnections.parseInteger(value, name: name)
            case "rate": relay.rate = try SettingLimit.sendRate.parse(value, name: name)
            case "weight": relay.weight = try SettingLimit.relayWeight.parse(value, name: name)
            default:
                throw ConfigurationError("\(origin): unknown relay parameter '\(item.name)' (known: connections, rate, weight)")
            }
        }
        components.query = nil
        relay.url = components.string ?? text
        return relay
    }

    /// Parses a list of relays: separated by commas or white space (`PAPERPOST_SMTP_URL`), or
    /// one per line with `#` comments (`PAPERPOST_SMTP_RELAYS`, where `origin` is the file and
    /// errors name its line).
    public static func parseList(_ text: String, origin: String, isFile: Bool) throws(ConfigurationError) -> [Relay] {
        var relays: [Relay] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = isFile ? line.prefix { $0 != "#" } : line[...]
            let entries = content.split { $0 == "," || $0.isWhitespace }
            for entry in entries {
                relays.append(try parse(String(entry), origin: isFile ? "\(origin):\(index + 1)" : origin))
            }
        }
        guard !relays.isEmpty else {
            throw ConfigurationError("\(origin): no relay is listed (smtp://host:587, one per line)")
        }
        var seen: Set<String> = []
        for relay in relays where !seen.insert(relay.name).inserted {
            throw ConfigurationError("\(origin): the relay \(relay.name) is listed twice")
        }
        return relays
    }
}
