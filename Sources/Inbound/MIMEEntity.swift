import Foundation
import PaperPostCore

/// One MIME entity as a bounce parser needs it: unfolded headers, the decoded body text, and
/// the nested entities of a multipart or an attached message.
///
/// Inbound mail is written by every MTA there is, and some of it is truncated or garbled on the
/// way; nothing here trusts a length, a boundary or an encoding to be right, and a part that
/// cannot be decoded keeps its raw bytes rather than failing the message.
public struct MIMEEntity: Sendable {
    public var headers: [(name: String, value: String)]
    /// Parsed once: the classifier asks every entity for it several times.
    public let contentType: ContentType
    /// The body after its transfer encoding is undone, as text in its charset (invalid bytes
    /// replaced). For multipart entities, the preamble and parts are in ``parts`` instead.
    public var text: String
    public var parts: [MIMEEntity]

    /// Nesting limit: a real bounce is at most four levels deep (report, attached message,
    /// its multipart, its alternative); a hostile one could be thousands.
    static let maximumDepth = 8

    public init(bytes: some Collection<UInt8>) {
        self.init(bytes: Array(bytes), depth: 0)
    }

    init(bytes: [UInt8], depth: Int) {
        let (headerEnd, bodyStart) = Self.headerBoundary(bytes)
        headers = Self.parseHeaders(bytes[0..<headerEnd])
        let type = ContentType(headers.first { $0.name == "content-type" }?.value ?? "text/plain")
        contentType = type
        let body = bytes[bodyStart...]
        parts = []
        text = ""
        if type.type == "multipart", let boundary = type.parameters["boundary"], !boundary.isEmpty, depth < Self.maximumDepth {
            let sections = Self.split(body, boundary: Array(boundary.utf8))
            text = Charset.decode(sections.preamble, charset: nil)
            parts = sections.parts.map { MIMEEntity(bytes: Array($0), depth: depth + 1) }
        } else {
            let decoded = TransferEncoding.decode(body, encoding: header("content-transfer-encoding"))
            if (type.full == "message/rfc822" || type.full == "message/global") && depth < Self.maximumDepth {
                parts = [MIMEEntity(bytes: decoded, depth: depth + 1)]
            }
            text = Charset.decode(decoded, charset: type.parameters["charset"])
        }
    }

    /// The first header of that name (case-blind), unfolded.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    public func headers(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name == lowered }.map(\.value)
    }


    /// This entity and every entity inside it, depth first.
    public var allEntities: [MIMEEntity] {
        var result = [self]
        for part in parts { result += part.allEntities }
        return result
    }

    // MARK: - Parsing

    /// Where the header block ends and the body starts: the first empty line (LF or CRLF). A
    /// message with no empty line is all headers.
    static func headerBoundary(_ bytes: [UInt8]) -> (Int, Int) {
        var index = 0
        // A body that starts at once (no headers at all) has an empty line first.
        if bytes.first == 0x0A { return (0, 1) }
        if bytes.count >= 2, bytes[0] == 0x0D, bytes[1] == 0x0A { return (0, 2) }
        while index < bytes.count {
            guard bytes[index] == 0x0A else { index += 1; continue }
            if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return (index + 1, index + 2) }
            if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return (index + 1, index + 3) }
            index += 1
        }
        return (bytes.count, bytes.count)
    }

    static func parseHeaders(_ bytes: ArraySlice<UInt8>) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        var name: String?
        var value: [UInt8] = []
        func flush() {
            if let name {
                while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
                let raw = String(decoding: value, as: UTF8.self)
                // Only values holding "=?" can hold encoded words.
                let hasEncodedWord = zip(value, value.dropFirst()).contains { $0 == 0x3D && $1 == 0x3F }
                result.append((name, hasEncodedWord ? EncodedWords.decode(raw) : raw))
            }
            name = nil
            value = []
        }
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = line
            if line.last == 0x0D { line = line.dropLast() }
            if let first = line.first, first == 0x20 || first == 0x09 {
                if name != nil { value.append(0x20); value += line.drop { $0 == 0x20 || $0 == 0x09 } }
                continue
            }
            flush()
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex else { continue }
            let field = line[line.startIndex..<colon]
            // Field names are printable ASCII without spaces; anything else is body text that
            // lost its separating blank line.
            guard field.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { continue }
            name = String(decoding: field, as: UTF8.self).lowercased()
            value = Array(line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 })
        }
        flush()
        return result
    }

    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> (preamble: ArraySlice<UInt8>, parts: [ArraySlice<UInt8>]) {
        let delimiter: [UInt8] = [0x2D, 0x2D] + boundary
        var preamble = body
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = body.startIndex
        var sawFirst = false
        while lineStart < body.endIndex {
            let lineEnd = body[lineStart...].firstIndex(of: 0x0A) ?? body.endIndex
            // A delimiter indented by a broken MTA is still a delimiter.
            let line = body[lineStart..<lineEnd].drop { $0 == 0x20 || $0 == 0x09 }
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [0x2D, 0x2D])
                let trailing = closing ? rest.dropFirst(2) : rest
                if trailing.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    if let start = partStart {
                        parts.append(body[start..<Self.trimmingLineBreak(body, before: lineStart, from: start)])
                    } else if !sawFirst {
                        preamble = body[body.startIndex..<lineStart]
                    }
                    sawFirst = true
                    partStart = closing ? nil : min(lineEnd + 1, body.endIndex)
                    if closing { break }
                }
            }
            lineStart = lineEnd + 1
        }
        // A truncated message: the last part runs to the end.
        if let start = partStart, start < body.endIndex { parts.append(body[start..<body.endIndex]) }
        return (sawFirst ? preamble : body, parts)
    }

    /// The end of a part: the line break before the next delimiter belongs to the delimiter.
    static func trimmingLineBreak(_ body: ArraySlice<UInt8>, before index: Int, from start: Int) -> Int {
        var end = index
        if end > start, body[end - 1] == 0x0A { end -= 1 }
        if end > start, body[end - 1] == 0x0D { end -= 1 }
        return end
    }
}

/// `type/subtype; name=value; …` with quoted values and case-blind names.
public struct ContentType: Sendable {
    public var type: String
    public var subtype: String
    public var parameters: [String: String]
    public var full: String { "\(type)/\(subtype)" }

    public init(_ text: String) {
        let pieces = HeaderParameters.split(text)
        let media = (pieces.first ?? "").lowercased().trimmingSpaces()
        let slash = media.firstIndex(of: "/")
        type = slash.map { String(media[..<$0]) } ?? media
        subtype = slash.map { String(media[media.index(after: $0)...]) } ?? ""
        parameters = HeaderParameters.parse(pieces.dropFirst())
    }
}

enum HeaderParameters {
    /// Splits on semicolons outside quotes.
    static func split(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped { current.append(character); escaped = false; continue }
            if character == "\\" && quoted { escaped = true; current.append(character); continue }
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        return pieces
    }

    static func parse(_ pieces: ArraySlice<String>) -> [String: String] {
        var result: [String: String] = [:]
        for piece in pieces {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingSpaces().lowercased()
            var value = piece[piece.index(after: equals)...].trimmingSpaces()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
                if value.contains("\\") { value = value.replacingOccurrences(of: "\\\"", with: "\"") }
            }
            if result[name] == nil { result[name] = value }
        }
        return result
    }
}
