/// Text with ASCII letters lower-cased, as bytes: phrase lookups over every inbound message
/// are byte searches, not Unicode-aware string comparisons, which were three
/// quarters of the classifier's time.
struct FoldedText {
    let bytes: [UInt8]

    init(_ text: some StringProtocol) {
        bytes = text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }

    /// Bytes searched as they are, for case-sensitive lookups.
    init(exactly text: some StringProtocol) {
        bytes = Array(text.utf8)
    }

    /// Phrases are given lower-case.
    func contains(_ phrase: Phrase) -> Bool { offset(of: phrase) != nil }

    func offset(of phrase: Phrase) -> Int? {
        let needle = phrase.bytes
        guard let first = needle.first, needle.count <= bytes.count else { return nil }
        let last = bytes.count - needle.count
        var index = 0
        while index <= last {
            guard let found = bytes[index...last].firstIndex(of: first) else { return nil }
            var length = 1
            while length < needle.count, bytes[found + length] == needle[length] { length += 1 }
            if length == needle.count { return found }
            index = found + 1
        }
        return nil
    }
}

/// A lower-case phrase, kept as bytes for ``FoldedText``.
struct Phrase: Sendable, ExpressibleByStringLiteral {
    let bytes: [UInt8]
    init(stringLiteral value: String) { bytes = Array(value.utf8) }
    init(_ value: String) { bytes = Array(value.lowercased().utf8) }
}

/// Small scanners over bounce text: addresses, enhanced status codes and SMTP reply codes.
/// Hand-written rather than regular expressions because they run over every line of every
/// inbound message, and the rules ("not inside an IP address") are easier to state as code.
enum TextScanning {
    /// Every `local@domain` in the text, lower-cased, in order, without duplicates.
    static func addresses(in text: some StringProtocol) -> [String] {
        let bytes = Array(text.utf8)
        var found: [String] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == 0x40 else { index += 1; continue }
            var start = index
            while start > 0, isLocal(bytes[start - 1]) { start -= 1 }
            var end = index + 1
            while end < bytes.count, isDomain(bytes[end]) { end += 1 }
            while end > index + 1, bytes[end - 1] == 0x2E || bytes[end - 1] == 0x2D { end -= 1 }
            while start < index, bytes[start] == 0x2E { start += 1 }
            let domain = bytes[(index + 1)..<end]
            if start < index, domain.contains(0x2E), domain.first != 0x2E {
                let address = String(decoding: bytes[start..<end], as: UTF8.self).lowercased()
                if !found.contains(address) { found.append(address) }
            }
            index = end
        }
        return found
    }

    private static func isLocal(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "="),
            UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "^"),
            UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"): true
        default: false
        }
    }

    private static func isDomain(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "."), UInt8(ascii: "-"): true
        default: false
        }
    }

    /// The first enhanced status code (`5.1.1`, `4.7.26`) not inside a longer dotted number.
    static func status(in text: some StringProtocol) -> String? {
        statuses(in: text, stopAtFirst: true).first
    }

    /// Every enhanced status code in the text, in order.
    static func statuses(in text: some StringProtocol, stopAtFirst: Bool = false) -> [String] {
        var found: [String] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index + 4 < bytes.count {
            defer { index += 1 }
            let first = bytes[index]
            guard first == 0x32 || first == 0x34 || first == 0x35, bytes[index + 1] == 0x2E else { continue }
            if index > 0, isDigit(bytes[index - 1]) || bytes[index - 1] == 0x2E { continue }
            var cursor = index + 2
            let subjectStart = cursor
            while cursor < bytes.count, isDigit(bytes[cursor]), cursor - subjectStart < 4 { cursor += 1 }
            guard cursor - subjectStart >= 1, cursor - subjectStart <= 3, cursor < bytes.count, bytes[cursor] == 0x2E else { continue }
            cursor += 1
            let detailStart = cursor
            while cursor < bytes.count, isDigit(bytes[cursor]), cursor - detailStart < 4 { cursor += 1 }
            guard cursor - detailStart >= 1, cursor - detailStart <= 3 else { continue }
            if cursor < bytes.count, isDigit(bytes[cursor]) || (bytes[cursor] == 0x2E && cursor + 1 < bytes.count && isDigit(bytes[cursor + 1])) {
                continue
            }
            found.append(String(decoding: bytes[index..<cursor], as: UTF8.self))
            if stopAtFirst { return found }
        }
        return found
    }

    /// The first SMTP reply code (`550`, `421`) standing as a word: at the start of the text or
    /// after a space, colon, bracket or `<<<`, and followed by a space, `-` or the end.
    static func replyCode(in text: some StringProtocol) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        while index + 2 < bytes.count {
            defer { index += 1 }
            let first = bytes[index]
            guard first == 0x32 || first == 0x34 || first == 0x35, isDigit(bytes[index + 1]), isDigit(bytes[index + 2]) else { continue }
            guard bytes[index + 1] <= 0x35 else { continue }
            if index > 0 {
                let before = bytes[index - 1]
                guard before == 0x20 || before == 0x09 || before == 0x3A || before == 0x28 || before == 0x3C || before == 0x5B || before == 0x3D || before == 0x3B
                else { continue }
            }
            if index + 3 < bytes.count {
                let after = bytes[index + 3]
                guard after == 0x20 || after == 0x2D || after == 0x0A || after == 0x0D || after == 0x29 || after == 0x5D else { continue }
                // "550-5.7.1" and "550 5.1.1" are replies; "200 - 300" and "550-" followed by
                // digits that are not a status are not told apart further.
            }
            return String(decoding: bytes[index..<(index + 3)], as: UTF8.self)
        }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
