import PaperPostCore

extension String {
    /// The text wrapped so that no line is wider than `columns` display columns where it can be helped.
    /// Breaks at spaces; in CJK text, between any two wide characters — but never before closing punctuation
    /// (。，、；：！？）」』】 and their ASCII counterparts) nor after opening punctuation (（「『【). A word longer than
    /// the width (a URL) stays whole on its own line. Existing line breaks are kept. A line that starts with
    /// indentation and/or a list marker ("  ", "- ", "* ", "1. ", "12. ", "[3] ") has its continuation lines
    /// indented to the width of that prefix. Trailing spaces are removed from every line. Lines ending in CRLF
    /// or LF: input uses LF; output uses LF.
    ///
    /// Also breaks between a wide character and an adjacent ASCII-style letter or digit ("使用GPT模型"
    /// may break before "G" and after "T"), after U+200B ZERO WIDTH SPACE, and never at a no-break space.
    /// Spaces between words that stay on one line are kept as they were. Markers "+ ", "• " and "1) "
    /// count as list markers too. A hanging indent is at most half of `columns`. With `columns` < 1 lines
    /// are only trimmed, not wrapped.
    public func wrapped(toColumns columns: Int = 78) -> String {
        var output: [String] = []
        for line in split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            LineWrapper.wrap(line, toColumns: columns, into: &output)
        }
        return output.joined(separator: "\n")
    }
}

// MARK: - Wrapping

private enum LineWrapper {
    /// A run of text that is never broken inside, with the whitespace that preceded it on the line.
    private struct Piece {
        var spaces: Substring
        var text: Substring
        var width: Int
    }

    static func wrap(_ rawLine: Substring, toColumns columns: Int, into output: inout [String]) {
        let line = rawLine.droppingTrailingWhitespace
        guard !line.isEmpty else {
            output.append("")
            return
        }
        // No character is wider than its UTF-8 bytes, so a line of at most `columns` bytes fits
        // as it is; most of a digest's short lines (headings, links, labels) end here. A tab is
        // left to the full path, which drops one at the start of the line's text.
        guard columns > 0, line.utf8.count > columns || line.utf8.contains(9) else {
            output.append(String(line))
            return
        }
        let bodyStart = prefixEnd(of: line)
        let prefix = line[..<bodyStart]
        let prefixWidth = String(prefix).displayWidth
        let hangingIndent = String(repeating: " ", count: min(prefixWidth, columns / 2))

        var current = String(prefix)
        var currentWidth = prefixWidth
        var currentIsEmpty = true
        for piece in pieces(of: line[bodyStart...]) {
            let spaceWidth = piece.spaces.count
            if currentIsEmpty || currentWidth + spaceWidth + piece.width <= columns {
                if !currentIsEmpty {
                    current += piece.spaces
                    currentWidth += spaceWidth
                }
                current += piece.text
                currentWidth += piece.width
                currentIsEmpty = false
            } else {
                output.append(String(current.droppingTrailingWhitespace))
                current = hangingIndent + piece.text
                currentWidth = hangingIndent.count + piece.width
            }
        }
        output.append(String(current.droppingTrailingWhitespace))
    }

    /// The end of the line's leading indentation and list marker (with the spaces after it).
    private static func prefixEnd(of line: Substring) -> Substring.Index {
        let end = line.endIndex
        var index = line.startIndex
        while index < end, line[index] == " " {
            index = line.index(after: index)
        }
        let indentEnd = index
        guard index < end else { return indentEnd }

        // The marker itself: "-", "*", "+", "•", "1." … "999.", "1)" … "999)", "[1]" … "[999]".
        if bulletMarkers.contains(line[index]) {
            index = line.index(after: index)
        } else {
            let bracketed = line[index] == "["
            if bracketed { index = line.index(after: index) }
            let digitsStart = index
            while index < end, line[index].isASCII, line[index].isNumber {
                index = line.index(after: index)
            }
            let digitCount = line.distance(from: digitsStart, to: index)
            guard (1...3).contains(digitCount), index < end else { return indentEnd }
            let closer = line[index]
            guard bracketed ? closer == "]" : (closer == "." || closer == ")") else { return indentEnd }
            index = line.index(after: index)
        }

        // A marker counts only when a space follows it; the prefix takes all the spaces.
        guard index < end, line[index] == " " else { return indentEnd }
        while index < end, line[index] == " " {
            index = line.index(after: index)
        }
        return index
    }

    /// The body of a line cut at every break opportunity.
    private static func pieces(of body: Substring) -> [Piece] {
        var result: [Piece] = []
        var spacesStart = body.startIndex
        var textStart = body.startIndex
        var width = 0
        var previous: (character: Character, width: Int)?
        var index = body.startIndex

        func finishPiece(at end: Substring.Index) {
            if textStart < end {
                result.append(Piece(spaces: body[spacesStart..<textStart], text: body[textStart..<end], width: width))
            }
            spacesStart = end
            textStart = end
            width = 0
        }

        while index < body.endIndex {
            let character = body[index]
            if character == " " || character == "\t" {
                if textStart < index { finishPiece(at: index) }
                textStart = body.index(after: index)
                previous = nil
            } else {
                let characterWidth = TerminalColumns.width(of: character)
                if let previous, canBreak(between: previous, and: (character, characterWidth)) {
                    finishPiece(at: index)
                }
                width += characterWidth
                previous = (character, characterWidth)
            }
            index = body.index(after: index)
        }
        finishPiece(at: body.endIndex)
        return result
    }

    /// Whether a line may break between two adjacent non-space characters, given with their widths.
    private static func canBreak(between before: (character: Character, width: Int), and after: (character: Character, width: Int)) -> Bool {
        // Never between two ASCII characters (most of an English line): answered before the
        // punctuation sets are searched, which hashes both characters.
        if before.character.isASCII && after.character.isASCII { return false }
        let (before, beforeIsWide) = (before.character, before.width == 2)
        let (after, afterIsWide) = (after.character, after.width == 2)
        if before == "\u{200B}" { return true }
        if closingPunctuation.contains(after) || openingPunctuation.contains(before) { return false }
        switch (beforeIsWide, afterIsWide) {
        case (true, true):
            return true
        case (true, false):
            return after.isLetter || after.isNumber || openingPunctuation.contains(after)
        case (false, true):
            return before.isLetter || before.isNumber || closingPunctuation.contains(before)
        case (false, false):
            return false
        }
    }

    private static let bulletMarkers: Set<Character> = ["-", "*", "+", "•"]

    /// Never at the start of a line.
    private static let closingPunctuation: Set<Character> = [
        "。", "，", "、", "；", "：", "！", "？", "）", "」", "』", "】", "》", "〉", "］", "｝", "〕", "〗", "〙", "〛",
        "｠", "”", "’", "．", "…", "‥", "ー", "々", "〜", "～", "・", "･", "｡", "､",
        "ぁ", "ぃ", "ぅ", "ぇ", "ぉ", "っ", "ゃ", "ゅ", "ょ", "ゎ", "ァ", "ィ", "ゥ", "ェ", "ォ", "ッ", "ャ", "ュ", "ョ", "ヮ",
        ".", ",", ";", ":", "!", "?", ")", "]", "}", "%",
    ]

    /// Never at the end of a line.
    private static let openingPunctuation: Set<Character> = [
        "（", "「", "『", "【", "《", "〈", "［", "｛", "〔", "〖", "〘", "〚", "｟", "“", "‘",
        "(", "[", "{",
    ]
}

extension StringProtocol {
    /// The text without trailing spaces, tabs and carriage returns.
    fileprivate var droppingTrailingWhitespace: SubSequence {
        var end = endIndex
        while end > startIndex {
            let before = index(before: end)
            guard self[before] == " " || self[before] == "\t" || self[before] == "\r" else { break }
            end = before
        }
        return self[startIndex..<end]
    }
}

// MARK: - Display width
