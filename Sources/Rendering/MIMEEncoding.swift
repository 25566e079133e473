import Foundation

/// The transfer encoding of a text part: base64 for mostly non-ASCII text (CJK), quoted-printable
/// for mostly ASCII text, whichever is shorter.
public enum TransferEncoding: String, Sendable {
    case base64
    case quotedPrintable = "quoted-printable"

    /// The shorter encoding for these bytes (base64 grows every byte by a third; quoted-printable
    /// triples every non-ASCII byte and `=`).
    static func shorter(for bytes: [UInt8]) -> TransferEncoding {
        let base64Size = (bytes.count + 2) / 3 * 4 * 78 / 76
        let quotedPrintableSize = bytes.reduce(0) { size, byte in size + (MIMEEncoding.isLiteral(byte) ? 1 : 3) }
        return base64Size < quotedPrintableSize ? .base64 : .quotedPrintable
    }
}

/// RFC 2045 body encodings and RFC 2047 header words, writing into byte buffers (they run
/// once per message for the personal parts, so they avoid intermediate strings).
enum MIMEEncoding {
    static let crlf: [UInt8] = [13, 10]
    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let hexDigits = Array("0123456789ABCDEF".utf8)
    /// Input bytes per 76-character base64 line.
    static let base64LineInput = 57

    /// Base64 in lines of 76 characters, each ending in CRLF.
    static func base64(_ bytes: some Collection<UInt8>, into output: inout [UInt8]) {
        var iterator = bytes.makeIterator()
        var column = 0
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let value = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(base64Alphabet[Int(value >> 18 & 63)])
            output.append(base64Alphabet[Int(value >> 12 & 63)])
            output.append(second == nil ? UInt8(ascii: "=") : base64Alphabet[Int(value >> 6 & 63)])
            output.append(third == nil ? UInt8(ascii: "=") : base64Alphabet[Int(value & 63)])
            column += 4
            if column == 76 {
                output += crlf
                column = 0
            }
        }
        if column > 0 { output += crlf }
    }

    /// Whether a byte stands for itself in quoted-printable (space and tab only mid-line).
    static func isLiteral(_ byte: UInt8) -> Bool {
        (33...126).contains(byte) && byte != UInt8(ascii: "=") || byte == 32 || byte == 9
    }

    /// Quoted-printable with lines of at most 76 characters. Input line breaks must be CRLF;
    /// they stay hard line breaks, so that encoding whole lines separately and concatenating
    /// gives the same bytes as encoding them together.
    static func quotedPrintable(_ bytes: [UInt8], into output: inout [UInt8]) {
        var column = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 13, index + 1 < bytes.count, bytes[index + 1] == 10 {
                output += crlf
                column = 0
                index += 2
                continue
            }
            let atLineEnd = index + 1 == bytes.count || (bytes[index + 1] == 13 && index + 2 < bytes.count && bytes[index + 2] == 10)
            let literal = isLiteral(byte) && !((byte == 32 || byte == 9) && atLineEnd)
            let width = literal ? 1 : 3
            // Keep room for the "=" of a soft break: at most 75 characters before it.
            if column + width > (atLineEnd ? 76 : 75) {
                output += [UInt8(ascii: "=")] + crlf
                column = 0
            }
            if literal {
                output.append(byte)
            } else {
                output += [UInt8(ascii: "="), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]]
            }
            column += width
            index += 1
        }
    }

    /// An unstructured header value (RFC 5322 §2.2.1): left as it is when it is plain ASCII,
    /// otherwise RFC 2047 encoded-words of at most 39 bytes of UTF-8 each (whole characters),
    /// folded onto continuation lines so no line passes 78 characters.
    static func headerText(_ text: String) -> String {
        let text = sanitized(text)
        if text.allSatisfy({ $0.isASCII && !$0.isNewline }) && !text.contains("=?") && text.utf8.count <= 62 {
            return text
        }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39 {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(encodedWord(chunk)) }
        return words.joined(separator: "\r\n ")
    }

    /// Line breaks and control characters never reach a header, encoded or not: they become spaces.
    static func sanitized(_ text: String) -> String {
        let isBreak: (Unicode.Scalar) -> Bool = {
            $0.value < 32 || $0.value == 127 || (0x80...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}"
        }
        guard text.unicodeScalars.contains(where: isBreak) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { isBreak($0) ? " " : $0 }))
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        var encoded: [UInt8] = []
        base64(bytes, into: &encoded)
        return "=?UTF-8?B?" + String(decoding: encoded.dropLast(2), as: UTF8.self) + "?="
    }

    /// `Display Name <address>`: the name as an atom, a quoted string, or encoded-words.
    /// Bytes allowed in an RFC 5322 atom (and the space between atoms of a phrase).
    private static let atext: [Bool] = (0..<128).map { byte in
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ".utf8.contains(UInt8(byte))
    }

    static func mailbox(name: String?, address: String) -> String {
        guard let name = name.map(sanitized), !name.isEmpty else { return address }
        let bytes = name.utf8
        if bytes.allSatisfy({ $0 < 128 && atext[Int($0)] }) && bytes.first != 32 && bytes.last != 32 && !name.contains("  ") {
            return "\(name) <\(address)>"
        }
        if bytes.allSatisfy({ $0 >= 32 && $0 < 127 }) {
            var quoted: [UInt8] = [34]
            for byte in bytes {
                if byte == 34 || byte == 92 { quoted.append(92) }
                quoted.append(byte)
            }
            return String(decoding: quoted + [34], as: UTF8.self) + " <\(address)>"
        }
        return headerText(name) + " <\(address)>"
    }
}
