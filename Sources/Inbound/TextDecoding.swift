import Foundation
import PaperPostCore

/// Content-Transfer-Encoding: base64 and quoted-printable undone leniently (bad characters
/// skipped), anything else passed through.
enum TransferEncoding {
    static func decode(_ bytes: ArraySlice<UInt8>, encoding: String?) -> [UInt8] {
        switch encoding?.lowercased().trimmingSpaces() {
        case "base64": base64(bytes)
        case "quoted-printable": quotedPrintable(bytes, underscoreIsSpace: false)
        default: Array(bytes)
        }
    }

    static func base64(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt8
            switch byte {
            case 0x41...0x5A: value = byte - 0x41
            case 0x61...0x7A: value = byte - 0x61 + 26
            case 0x30...0x39: value = byte - 0x30 + 52
            case 0x2B, 0x2D: value = 62
            case 0x2F, 0x5F: value = 63
            case 0x3D: return output
            default: continue
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }

    static func quotedPrintable(_ bytes: some Collection<UInt8>, underscoreIsSpace: Bool) -> [UInt8] {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0x3D {
                // A soft line break, or a hex pair; a lone "=" stays.
                if index + 1 < input.count, input[index + 1] == 0x0A { index += 2; continue }
                if index + 2 < input.count, input[index + 1] == 0x0D, input[index + 2] == 0x0A { index += 3; continue }
                if index + 2 < input.count, let high = hex(input[index + 1]), let low = hex(input[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            output.append(underscoreIsSpace && byte == 0x5F ? 0x20 : byte)
            index += 1
        }
        return output
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}

/// Text in a declared charset. UTF-8 and ASCII (the common case) are decoded directly; the
/// Japanese, Latin and Windows sets that bounces are written in go through Foundation; an
/// unknown or lying charset falls back to UTF-8 with replacement characters, never an error.
enum Charset {
    static func decode(_ bytes: some Collection<UInt8>, charset: String?) -> String {
        let name = charset.map { String($0.lowercased().filter { $0 != "\"" && $0 != " " }) } ?? "utf-8"
        if name == "utf-8" || name == "us-ascii" || name == "utf8" || name == "ascii" {
            return String(decoding: bytes, as: UTF8.self)
        }
        if let encoding = encodings[name], let text = String(data: Data(bytes), encoding: encoding) {
            return text
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static let encodings: [String: String.Encoding] = [
        "iso-8859-1": .isoLatin1, "latin1": .isoLatin1, "iso-8859-15": .isoLatin1,
        "windows-1252": .windowsCP1252, "cp1252": .windowsCP1252,
        "iso-8859-2": .isoLatin2, "windows-1250": .windowsCP1250,
        "iso-2022-jp": .iso2022JP, "shift_jis": .shiftJIS, "sjis": .shiftJIS, "euc-jp": .japaneseEUC,
        "utf-16": .utf16,
    ]
}

/// RFC 2047 encoded words in header values (`=?UTF-8?B?…?=`): subjects of auto-replies and
/// bounces are written in the sender's language.
enum EncodedWords {
    static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var result = ""
        var rest = text[...]
        var lastWasEncoded = false
        while let start = rest.range(of: "=?") {
            let between = rest[..<start.lowerBound]
            let candidate = rest[start.upperBound...]
            guard let word = encodedWord(candidate) else {
                result += between + "=?"
                rest = candidate
                lastWasEncoded = false
                continue
            }
            // Whitespace between two encoded words is dropped (RFC 2047 §6.2).
            if !(lastWasEncoded && between.allSatisfy(\.isWhitespace)) { result += between }
            result += word.text
            rest = candidate[word.end...]
            lastWasEncoded = true
        }
        return result + rest
    }

    private static func encodedWord(_ text: Substring) -> (text: String, end: Substring.Index)? {
        let pieces = text.split(separator: "?", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].count < 40, pieces[1].count == 1 else { return nil }
        let payloadAndRest = pieces[2]
        guard let close = payloadAndRest.range(of: "?=") else { return nil }
        let payload = payloadAndRest[..<close.lowerBound]
        guard !payload.contains(" ") else { return nil }
        let charset = pieces[0].split(separator: "*").first.map(String.init)  // RFC 2231 language suffix
        let bytes: [UInt8]
        switch pieces[1].uppercased() {
        case "B": bytes = TransferEncoding.base64(Array(payload.utf8))
        case "Q": bytes = TransferEncoding.quotedPrintable(Array(payload.utf8), underscoreIsSpace: true)
        default: return nil
        }
        return (Charset.decode(bytes, charset: charset), close.upperBound)
    }
}
