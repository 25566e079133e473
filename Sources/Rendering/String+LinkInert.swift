extension String {
    /// The text with every web address, domain and email address in it broken for linkifiers,
    /// looking the same: a WORD JOINER (U+2060, invisible, never a line break) goes after the
    /// `:` of `scheme://` and before every dot that joins two labels (`evil⁠.example`), so neither
    /// cmark nor a mail client, webmail or feed reader that turns bare addresses in text into
    /// links finds one. Numbers (`3.5`) and sentence ends (`ends. Then`) are left alone.
    ///
    /// Text from arXiv and from the model goes through this before it is rendered anywhere; the
    /// links PaperPost builds itself never do.
    public var linkInert: String {
        let scalars = Array(unicodeScalars)
        // Most titles and sentences hold no dot between letters and no `://`: nothing to do.
        guard scalars.indices.contains(where: { Self.needsJoiner(scalars, before: $0) }) else { return self }
        var result = String.UnicodeScalarView()
        result.reserveCapacity(scalars.count + 8)
        for index in scalars.indices {
            if Self.needsJoiner(scalars, before: index) { result.append(Self.wordJoiner) }
            result.append(scalars[index])
        }
        return String(result)
    }

    static let wordJoiner: Unicode.Scalar = "\u{2060}"

    /// Before a `.` between an ASCII letter or digit and an ASCII letter, and between `:` and `//`.
    private static func needsJoiner(_ scalars: [Unicode.Scalar], before index: Int) -> Bool {
        guard index > 0 else { return false }
        let previous = scalars[index - 1]
        switch scalars[index] {
        case ".":
            guard index + 1 < scalars.count else { return false }
            return previous.isASCIILetterOrDigit && scalars[index + 1].isASCIILetter
        case "/":
            return previous == ":" && index + 1 < scalars.count && scalars[index + 1] == "/"
        default:
            return false
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIILetterOrDigit: Bool { isASCIILetter || ("0"..."9").contains(self) }
}
