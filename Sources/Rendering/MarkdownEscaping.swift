import Foundation
import Mustache

extension String {
    /// The text made inert for Markdown: one line (line breaks and control characters become
    /// spaces), and every character that could start emphasis, a link, a code span, raw HTML,
    /// an entity or a table cell escaped with a backslash. Everything from arXiv or the model
    /// goes through this, so a `|` in a title cannot break the table and `<script>` stays text.
    public var markdownEscaped: String {
        var result = ""
        result.reserveCapacity(utf8.count + 8)
        var lastWasSpace = false
        for scalar in unicodeScalars {
            if scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
                || SlotMarker.isMarker(scalar)
            {
                if !lastWasSpace { result.append(" ") }
                lastWasSpace = true
                continue
            }
            lastWasSpace = scalar == " "
            if "\\`*_[]<>|~&!#".unicodeScalars.contains(scalar) {
                result.append("\\")
            }
            result.unicodeScalars.append(scalar)
        }
        return result.trimmingCharacters(in: .whitespaces)
    }
}

/// Templates whose `{{value}}` escapes Markdown (`{{% CONTENT_TYPE: MARKDOWN}}`), as HTML
/// templates escape HTML: the safe choice is the default one.
struct MarkdownContentType: MustacheContentType {
    func escapeText(_ text: String) -> String { text.markdownEscaped }

    /// Registered with swift-mustache once per process, before any template is parsed.
    static let registered: Void = MustacheContentTypes.register(MarkdownContentType(), named: "MARKDOWN")
}
