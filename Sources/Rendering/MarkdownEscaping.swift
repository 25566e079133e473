import Foundation
import Mustache

extension String {
    /// The text made inert for Markdown: one line (line breaks and control characters become
    /// spaces), and every character that could start emphasis, a link, a code span, raw HTML,
    /// an entity or a table cell escaped with a backslash. Everything from arXiv or the model
    /// goes through this, so a `|` in a title cannot break the table and `<script>` stays text.
    ///
    /// Works on the UTF-8 bytes: every template value of every rendered piece goes through it,
    /// and a per-scalar pass (a Unicode property lookup each) was a tenth of rendering. The
    /// control characters are exactly C0, DEL and C1, so bytes decide them.
    public var markdownEscaped: String {
        let bytes = Array(utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 8)
        var lastWasSpace = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let lineBreaking = Self.lineBreakingLength(bytes, at: index)
            if lineBreaking > 0 {
                if !lastWasSpace { output.append(0x20) }
                lastWasSpace = true
                index += lineBreaking
                continue
            }
            lastWasSpace = byte == 0x20
            if byte < 0x80 && Self.markdownSpecial[Int(byte)] { output.append(0x5C) }
            output.append(byte)
            index += 1
        }
        var start = 0
        var end = output.count
        while start < end && output[start] == 0x20 { start += 1 }
        while end > start && output[end - 1] == 0x20 { end -= 1 }
        let result = String(decoding: output[start..<end], as: UTF8.self)
        // Other whitespace at either end (a no-break space, an ideographic space) is trimmed as
        // before; in the usual case both ends are ASCII and there is nothing more to do.
        if start < end && (output[start] >= 0x80 || output[end - 1] >= 0x80) {
            return result.trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    /// `\`*_[]<>|~&!#` and the backslash, by ASCII code.
    private static let markdownSpecial: [Bool] = (0..<128).map { "\\`*_[]<>|~&!#".utf8.contains(UInt8($0)) }

    /// The length of the UTF-8 sequence at `index` when it is a character that must not reach
    /// Markdown as itself (a control character, a line or paragraph separator, a slot marker),
    /// else 0.
    private static func lineBreakingLength(_ bytes: [UInt8], at index: Int) -> Int {
        let byte = bytes[index]
        if byte < 0x20 || byte == 0x7F { return 1 }
        let rest = bytes.count - index
        // U+0080 … U+009F
        if byte == 0xC2 && rest >= 2 && (0x80...0x9F).contains(bytes[index + 1]) { return 2 }
        // U+2028, U+2029
        if byte == 0xE2 && rest >= 3 && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9) { return 3 }
        // U+E000, U+E001 (``SlotMarker``)
        if byte == 0xEE && rest >= 3 && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0x80 || bytes[index + 2] == 0x81) { return 3 }
        return 0
    }
}

/// Templates whose `{{value}}` escapes Markdown (`{{% CONTENT_TYPE: MARKDOWN}}`), as HTML
/// templates escape HTML: the safe choice is the default one.
struct MarkdownContentType: MustacheContentType {
    func escapeText(_ text: String) -> String { text.markdownEscaped }

    /// Registered with swift-mustache once per process, before any template is parsed.
    static let registered: Void = MustacheContentTypes.register(MarkdownContentType(), named: "MARKDOWN")
}
