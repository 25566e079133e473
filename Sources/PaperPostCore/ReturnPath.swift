import Crypto
import Foundation

/// A per-message envelope sender (VERP): `bounces+20260220-42-k7fq2m9x3abc@example.org` for the
/// bounce address `bounces@example.org`.
///
/// Relays accept every message and send the bounce later to the envelope sender, often without
/// the original headers, or with a diagnostic that names a rewritten address. The token in the
/// address names the delivery (digest day and subscriber) and carries a MAC, so a bounce is
/// traced to its row whatever else it says, and an address someone made up is not believed.
public struct ReturnPath: Sendable, Hashable {
    public var day: Day
    public var subscriberID: Int64

    public init(day: Day, subscriberID: Int64) {
        self.day = day
        self.subscriberID = subscriberID
    }

    /// The envelope sender for this delivery, built on `base` (the bounce address).
    public func address(base: EmailAddress, key: SymmetricKey) -> String {
        "\(base.localPart)+\(token(key: key))@\(base.domain)"
    }

    /// The day's digits, the subscriber, and 60 bits of HMAC in lower-case base32: case-blind,
    /// since some relays lower-case local parts.
    func token(key: SymmetricKey) -> String {
        let digits = String(format: "%04d%02d%02d", day.year, day.month, day.day)
        return "\(digits)-\(subscriberID)-\(Self.mac(digits, subscriberID, key: key))"
    }

    static func mac(_ digits: String, _ subscriberID: Int64, key: SymmetricKey) -> String {
        let code = Array(HMAC<SHA256>.authenticationCode(for: Array("return-path \(digits) \(subscriberID)".utf8), using: key))
        // 12 characters of 5 bits from the first 8 bytes.
        var bits = code.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var text: [UInt8] = []
        for _ in 0..<12 {
            text.append(alphabet[Int(bits >> 59)])
            bits <<= 5
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// The delivery an address names under any of `keys` (the current secret, then previous ones).
    public static func parse(_ address: String, base: EmailAddress, keys: [SymmetricKey]) -> ReturnPath? {
        for key in keys {
            if let path = parse(address, base: base, key: key) { return path }
        }
        return nil
    }

    /// The delivery an address names, or `nil` when it is not a return path on `base` or its
    /// MAC does not match (forged, altered, or made with another secret).
    public static func parse(_ address: String, base: EmailAddress, key: SymmetricKey) -> ReturnPath? {
        let text = address.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t")).lowercased()
        let prefix = base.localPart.lowercased() + "+"
        let suffix = "@" + base.domain.lowercased()
        guard text.hasPrefix(prefix), text.hasSuffix(suffix), text.count > prefix.count + suffix.count else { return nil }
        let token = text.dropFirst(prefix.count).dropLast(suffix.count)
        let parts = token.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 8, parts[0].allSatisfy(\.isASCII), parts[0].allSatisfy(\.isNumber),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), !parts[1].isEmpty, parts[1].count <= 19, parts[1].first != "0",
            let subscriberID = Int64(parts[1]),
            let year = Int(parts[0].prefix(4)), let month = Int(parts[0].dropFirst(4).prefix(2)), let dayNumber = Int(parts[0].suffix(2)),
            let day = Day(year: year, month: month, day: dayNumber)
        else { return nil }
        // The MAC is what makes the address believable.
        guard mac(String(parts[0]), subscriberID, key: key).isEqualInConstantTime(to: String(parts[2])) else { return nil }
        return ReturnPath(day: day, subscriberID: subscriberID)
    }
}
