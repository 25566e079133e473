/// A mailbox address that is safe to put in an SMTP envelope and a mail header.
///
/// The address is kept exactly as the person typed it (it is theirs), and compared through
/// ``key``: the domain is case-insensitive by RFC 5321, and the local part is treated the same
/// way by default because almost every real mailbox provider does.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address as given, trimmed of surrounding white space.
    public let value: String
    /// The form used for uniqueness and look-ups.
    public let key: String

    public var description: String { value }

    public var localPart: Substring { value[..<value.lastIndex(of: "@")!] }
    public var domain: Substring { value[value.index(after: value.lastIndex(of: "@")!)...] }

    /// Validates an address.
    ///
    /// Only plain ASCII addresses (`local@domain.tld`) are accepted: no display names, comments,
    /// quoted local parts or internationalised addresses, since these are where header injection
    /// and delivery surprises come from.
    ///
    /// - Parameter caseSensitiveLocalPart: compare `Bob@x.org` and `bob@x.org` as different people.
    /// - Throws: ``InputError/invalidAddress(_:reason:)`` naming the address and the problem.
    public init(_ text: String, caseSensitiveLocalPart: Bool = false) throws(InputError) {
        let address = text.trimmingSpaces()
        func fail(_ reason: String) -> InputError { .invalidAddress(text, reason: reason) }
        let dot = UInt8(ascii: ".")

        guard !address.isEmpty else { throw fail("it is empty") }
        guard address.utf8.count <= 254 else { throw fail("longer than 254 characters") }
        if let bad = address.unicodeScalars.first(where: { !$0.isASCII || $0.value < 0x21 || $0.value == 0x7F }) {
            switch bad {
            case " ", "\t": throw fail("contains a space")
            case "\r", "\n": throw fail("contains a line break")
            default:
                throw fail(bad.isASCII ? "contains a control character" : "contains non-ASCII characters (use the punycode form of the domain)")
            }
        }
        // The address is ASCII by now: it is split, checked and lower-cased byte by byte,
        // without the Unicode tables that a million imported addresses would spend seconds in.
        let parts = address[...].asciiSplit(UInt8(ascii: "@"))
        guard parts.count == 2 else {
            throw fail(parts.count == 1 ? "no '@'" : "more than one '@'")
        }
        let local = parts[0]
        let domain = parts[1]

        guard !local.isEmpty else { throw fail("nothing before the '@'") }
        guard local.utf8.count <= 64 else { throw fail("the part before '@' is longer than 64 characters") }
        if let bad = local.utf8.first(where: { !Self.localBytes[Int($0)] }) {
            throw fail("'\(Character(Unicode.Scalar(bad)))' is not allowed before the '@'")
        }
        guard local.utf8.first != dot, local.utf8.last != dot, !zip(local.utf8, local.utf8.dropFirst()).contains(where: { $0 == dot && $1 == dot }) else {
            throw fail("misplaced '.' before the '@'")
        }

        guard !domain.isEmpty else { throw fail("no domain after the '@'") }
        let labels = domain.asciiSplit(dot)
        guard labels.count >= 2 else { throw fail("the domain '\(domain)' has no dot") }
        for label in labels {
            guard !label.isEmpty else { throw fail("the domain '\(domain)' has an empty label") }
            guard label.utf8.count <= 63 else { throw fail("a domain label is longer than 63 characters") }
            if let bad = label.utf8.first(where: { !Self.labelBytes[Int($0)] }) {
                throw fail("'\(Character(Unicode.Scalar(bad)))' is not allowed in the domain")
            }
            guard label.utf8.first != UInt8(ascii: "-"), label.utf8.last != UInt8(ascii: "-") else {
                throw fail("a domain label starts or ends with '-'")
            }
        }
        guard labels.last!.utf8.contains(where: { (97...122).contains($0 | 0x20) }) else {
            throw fail("the domain '\(domain)' does not end in a name")
        }

        self.value = address
        let normalisedLocal = caseSensitiveLocalPart ? String(local) : local.asciiLowercased
        self.key = normalisedLocal + "@" + domain.asciiLowercased
    }
}

extension EmailAddress {
    /// An address this package validated before and stored with its key (an import's staging
    /// file): checking a million addresses a second time would cost seconds.
    package init(alreadyValidated value: String, key: String) {
        self.value = value
        self.key = key
    }

    /// The ASCII bytes allowed before the '@' (RFC 5322 atext, and the dot), by value.
    static let localBytes = byteTable("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-.")
    /// The ASCII bytes allowed in a domain label.
    static let labelBytes = byteTable("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")

    private static func byteTable(_ allowed: String) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        for byte in allowed.utf8 { table[Int(byte)] = true }
        return table
    }
}

extension Substring {
    /// The pieces between `separator` bytes, empty ones kept: `split` on bytes, for ASCII text.
    fileprivate func asciiSplit(_ separator: UInt8) -> [Substring] {
        utf8.split(separator: separator, omittingEmptySubsequences: false).map { self[$0.startIndex..<$0.endIndex] }
    }

    /// `lowercased()` for ASCII text, without Unicode's case tables.
    fileprivate var asciiLowercased: String {
        String(decoding: utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    public func trimmingSpaces() -> String {
        // Most text has nothing to trim: it begins and ends with printable ASCII, which no
        // space, tab or line break (nor a character built on one) can be.
        if let first = first?.asciiValue, let last = last?.asciiValue, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) {
            return String(self)
        }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }),
            let last = lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
