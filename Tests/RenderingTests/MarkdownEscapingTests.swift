import Foundation
import Rendering
import Testing

@Suite("Markdown escaping")
struct MarkdownEscapingTests {
    /// The escaping as first written, scalar by scalar: the byte-level version must agree with it.
    static func reference(_ text: String) -> String {
        var result = ""
        var lastWasSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
                || scalar == "\u{E000}" || scalar == "\u{E001}"
            {
                if !lastWasSpace { result.append(" ") }
                lastWasSpace = true
                continue
            }
            lastWasSpace = scalar == " "
            if "\\`*_[]<>|~&!#".unicodeScalars.contains(scalar) { result.append("\\") }
            result.unicodeScalars.append(scalar)
        }
        return result.trimmingCharacters(in: .whitespaces)
    }

    @Test("the same text as the scalar-by-scalar definition, for 20,000 random strings of awkward characters")
    func agreesWithDefinition() {
        let alphabet: [String] = [
            "a", "Z", "0", " ", "  ", "\t", "\n", "\r\n", "\u{0}", "\u{1F}", "\u{7F}", "\u{80}", "\u{85}", "\u{9F}", "\u{A0}",
            "\u{2028}", "\u{2029}", "\u{2027}", "\u{202A}", "\u{E000}", "\u{E001}", "\u{E002}", "\u{3000}", "\u{2003}",
            "\\", "`", "*", "_", "[", "]", "<", ">", "|", "~", "&", "!", "#", "$", "é", "模型", "🙂", "e\u{301}",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined()
            #expect(text.markdownEscaped == Self.reference(text), "\(Array(text.unicodeScalars))")
        }
    }

    @Test("a title with table bars, a tag and line breaks stays one inert line")
    func example() {
        #expect("  A | B\n<script>*x*  ".markdownEscaped == "A \\| B \\<script\\>\\*x\\*")
    }
}
