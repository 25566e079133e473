extension String {
    /// Columns the text takes in a terminal: East Asian wide and fullwidth characters (CJK ideographs, Hangul, kana, fullwidth forms, CJK punctuation like 。，：（）) and emoji take two, combining marks and zero-width characters none.
    ///
    /// Counted per grapheme cluster: an emoji cluster (presentation emoji, text emoji with U+FE0F,
    /// keycaps, flags, skin-tone and ZWJ sequences) takes two columns; any other cluster takes the sum
    /// of its scalars' widths, where nonspacing and enclosing marks, format characters (ZWSP, ZWJ,
    /// soft hyphen, BOM…), variation selectors, Hangul medial vowels and final consonants and control
    /// characters take none. Characters of ambiguous East Asian width (“”…·) count as one.
    public var displayWidth: Int {
        var total = 0
        for character in self {
            total += TerminalColumns.width(of: character)
        }
        return total
    }
}

/// Terminal column widths of characters, shared by listings (tables) and text wrapping.
public enum TerminalColumns {
    public static func width(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if first.isASCII, scalars.count == 1 {
            // Printable ASCII takes one column, controls none.
            return first.value >= 0x20 && first.value != 0x7F ? 1 : 0
        }
        return clusterWidth(scalars)
    }

    private static func clusterWidth(_ scalars: Character.UnicodeScalarView) -> Int {
        if isEmoji(scalars) { return 2 }
        var total = 0
        for scalar in scalars {
            total += width(of: scalar)
        }
        return total
    }

    private static func isEmoji(_ scalars: Character.UnicodeScalarView) -> Bool {
        guard let first = scalars.first else { return false }
        if scalars.contains("\u{FE0E}") { return false }  // text presentation requested
        if scalars.contains(where: { $0.properties.isEmojiPresentation }) { return true }
        // "❤️", "✈️", keycaps "1️⃣": text-default emoji made emoji by VARIATION SELECTOR-16.
        return first.properties.isEmoji && scalars.contains("\u{FE0F}")
    }

    private static func width(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        if value < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format:
            return 0
        default:
            break
        }
        // Hangul Jamo medial vowels and final consonants join the initial consonant before them.
        if (0x1160...0x11FF).contains(value) || (0xD7B0...0xD7FF).contains(value) { return 0 }
        return isWide(value) ? 2 : 1
    }

    /// East Asian Width W or F (Unicode 15), apart from emoji, which `isEmoji` recognises first.
    private static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F,  // Hangul Jamo initial consonants
             0x2329...0x232A,  // angle brackets 〈 〉
             0x2E80...0x2FFF,  // CJK radicals, Kangxi radicals, ideographic description characters
             0x3000...0x303E,  // CJK symbols and punctuation: 、。〈〉《》「」『』【】〜 and ideographic space
             0x3041...0x33FF,  // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, enclosed CJK
             0x3400...0x4DBF,  // CJK Unified Ideographs Extension A
             0x4E00...0x9FFF,  // CJK Unified Ideographs
             0xA000...0xA4CF,  // Yi
             0xA960...0xA97F,  // Hangul Jamo Extended-A
             0xAC00...0xD7A3,  // Hangul syllables
             0xF900...0xFAFF,  // CJK compatibility ideographs
             0xFE10...0xFE19,  // vertical forms
             0xFE30...0xFE6F,  // CJK compatibility forms, small form variants
             0xFF00...0xFF60,  // fullwidth forms: （），：！？ＡＢ１２
             0xFFE0...0xFFE6,  // fullwidth signs ￠￡￥
             0x16FE0...0x16FFF,  // ideographic symbols
             0x17000...0x18CFF,  // Tangut, Khitan
             0x18D00...0x18D8F,  // Tangut supplement
             0x1AFF0...0x1B2FF,  // Kana extended, Kana supplement, Nushu
             0x1F200...0x1F2FF,  // enclosed ideographic supplement 🈀
             0x20000...0x2FFFD,  // CJK extensions B–F, compatibility supplement
             0x30000...0x3FFFD:  // CJK extensions G–H
            return true
        default:
            return false
        }
    }
}
