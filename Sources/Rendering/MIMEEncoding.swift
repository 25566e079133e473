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
    ///
    /// Both encoders write through an `OutputSpan` into capacity reserved for the worst case:
    /// they run on the personal lines of every message, and appending byte by byte to the array
    /// checks its capacity and uniqueness each time.
    static func base64(_ bytes: [UInt8], into output: inout [UInt8]) {
        let alphabet = base64Alphabet.span
        let input = bytes.span
        let size = (input.count + 2) / 3 * 4
        output.append(addingCapacity: size + (size / 76 + 1) * 2) { out in
            var column = 0
            var index = 0
            let whole = input.count - input.count % 3
            while index < whole {
                let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                out.append(alphabet[Int(value >> 18 & 63)])
                out.append(alphabet[Int(value >> 12 & 63)])
                out.append(alphabet[Int(value >> 6 & 63)])
                out.append(alphabet[Int(value & 63)])
                index += 3
                column += 4
                if column == 76 {
                    out.append(13)
                    out.append(10)
                    column = 0
                }
            }
            if index < input.count {
                let second = index + 1 < input.count
                let value = UInt32(input[index]) << 16 | (second ? UInt32(input[index + 1]) << 8 : 0)
                out.append(alphabet[Int(value >> 18 & 63)])
                out.append(alphabet[Int(value >> 12 & 63)])
                out.append(second ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "="))
                out.append(UInt8(ascii: "="))
                column += 4
            }
            if column > 0 {
                out.append(13)
                out.append(10)
            }
        }
    }

    /// Whether a byte stands for itself in quoted-printable (space and tab only mid-line).
    static func isLiteral(_ byte: UInt8) -> Bool {
        quotedPrintableLiteral[Int(byte)] || byte == 32 || byte == 9
    }

    /// Quoted-printable with lines of at most 76 characters. Input line breaks must be CRLF;
    /// they stay hard line breaks, so that encoding whole lines separately and concatenating
    /// gives the same bytes as encoding them together.
    ///
    /// Most bytes of a digest's lines (markup, URLs, English) stand for themselves, so they are
    /// copied in runs up to where a soft break could be needed; only the bytes after a run (one
    /// to encode, a space, a line end, the end of the room on the line) are decided one by one.
    static func quotedPrintable(_ bytes: [UInt8], into output: inout [UInt8]) {
        let hex = hexDigits.span
        let literal = quotedPrintableLiteral.span
        let input = bytes.span
        let count = input.count
        // Every byte as =XX, and a soft break for every 25 of them.
        output.append(addingCapacity: count * 3 + (count / 25 + 1) * 3) { out in
            var column = 0
            var index = 0
            while index < count {
                // Bytes that stand for themselves anywhere on a line, while they fit before
                // column 75 (after which a soft break's `=` could be needed).
                let runEnd = min(count, index + 75 - column)
                let runStart = index
                while index < runEnd && literal[Int(input[index])] {
                    out.append(input[index])
                    index += 1
                }
                column += index - runStart
                guard index < count else { break }
                let byte = input[index]
                let next = index + 1
                let endsLine = next < count && byte == 13 && input[next] == 10
                if endsLine {
                    out.append(13)
                    out.append(10)
                    column = 0
                    index += 2
                    continue
                }
                // The line's last byte may reach column 76, and only there must a space or tab
                // be encoded (RFC 2045 §6.7 rule 3).
                let last = next == count || (input[next] == 13 && next + 1 < count && input[next + 1] == 10)
                let limit = last ? 76 : 75
                if literal[Int(byte)] || (byte == 32 || byte == 9) && !last {
                    if column + 1 > limit {
                        out.append(UInt8(ascii: "="))
                        out.append(13)
                        out.append(10)
                        column = 0
                    }
                    out.append(byte)
                    column += 1
                } else {
                    if column + 3 > limit {
                        out.append(UInt8(ascii: "="))
                        out.append(13)
                        out.append(10)
                        column = 0
                    }
                    out.append(UInt8(ascii: "="))
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 15)])
                    column += 3
                }
                index = next
            }
        }
    }

    /// Bytes that stand for themselves wherever they are on a line: printable ASCII but `=`
    /// (space and tab do too, except at a line's end, so they are not in this table).
    private static let quotedPrintableLiteral: [Bool] = (0..<256).map { (33...126).contains($0) && $0 != 61 }

    /// An unstructured header value (RFC 5322 §2.2.1): left as it is when it is plain ASCII,
    /// otherwise RFC 2047 encoded-words of at most 39 bytes of UTF-8 each (whole characters),
    /// folded onto continuation lines so no line passes 78 characters.
    static func headerText(_ text: String) -> String {
        let text = sanitized(text)
        if text.allSatisfy({ $0.isASCII && !$0.isNewline }) && !text.containsUTF8("=?") && text.utf8.count <= 62 {
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
        if bytes.allSatisfy({ $0 < 128 && atext[Int($0)] }) && bytes.first != 32 && bytes.last != 32 && !name.containsUTF8("  ") {
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
