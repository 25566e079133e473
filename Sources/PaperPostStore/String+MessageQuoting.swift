extension String {
    /// The longest piece of input a message quotes, in characters; the rest becomes "…".
    static let quotedInputLimit = 60

    /// Input as an error message quotes it: control characters, line and paragraph separators
    /// and bidirectional controls written as `\u{1B}` (a terminal would obey them: colour,
    /// cursor moves, text that reads backwards), and anything past ``quotedInputLimit``
    /// characters cut off with "…" (a 10 MB field is not worth printing).
    var quotedForMessage: String {
        let shown = count > Self.quotedInputLimit ? prefix(Self.quotedInputLimit) + "…" : Substring(self)
        return shown.escapingTerminalControls
    }

    /// The text with its terminal controls escaped as in ``quotedForMessage``, at full length:
    /// for our own messages that embed a piece of (already bounded) input.
    var escapingTerminalControls: String {
        Substring(self).escapingTerminalControls
    }
}

extension Substring {
    fileprivate var escapingTerminalControls: String {
        var result = ""
        for scalar in unicodeScalars {
            let category = scalar.properties.generalCategory
            if category == .control || category == .lineSeparator || category == .paragraphSeparator || scalar.properties.isBidiControl {
                result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
