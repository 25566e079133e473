/// Splits the announcement feed's `dc:creator`, which is one human-readable list
/// (`Chunhua Liu, Kabir Manandhar Shrestha, Sukai Huang`), back into names.
///
/// The list is written for people, not machines, so a plain split on commas would cut names apart:
/// commas also appear inside parentheses and braces (`A. Author (MIT, Cambridge)`, TeX groups) and
/// before suffixes (`King, Jr.`), and the last name may be joined with "and" (`A, B and C`, `A, B, and C`).
/// "and" is only taken as a separator before the last name, where lists put it, because collaboration
/// names earlier in a list can contain the word ("LIGO and Virgo Collaboration").
enum CreatorList {
    static func split(_ list: String) -> [String] {
        var names: [String] = []
        for piece in topLevelPieces(of: list, separatedBy: ",") {
            var name = piece.normalizingWhitespace()
            if name.hasPrefix("and ") { name.removeFirst(4) }
            guard !name.isEmpty else { continue }
            if isSuffix(name), let previous = names.popLast() {
                names.append("\(previous), \(name)")
            } else {
                names.append(name)
            }
        }
        if let last = names.popLast() {
            names += topLevelPieces(of: last, separatedBy: " and ")
                .map { $0.normalizingWhitespace() }
                .filter { !$0.isEmpty }
        }
        return names
    }

    private static let suffixes: Set<String> = ["jr", "jr.", "sr", "sr.", "ii", "iii", "iv"]

    private static func isSuffix(_ piece: String) -> Bool {
        suffixes.contains(piece.lowercased())
    }

    /// Splits at `separator` where it is not inside (), [] or {}.
    private static func topLevelPieces(of text: String, separatedBy separator: String) -> [Substring] {
        var pieces: [Substring] = []
        var depth = 0
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            switch text[index] {
            case "(", "[", "{": depth += 1
            case ")", "]", "}": depth = max(depth - 1, 0)
            default:
                if depth == 0, text[index...].hasPrefix(separator) {
                    pieces.append(text[start..<index])
                    index = text.index(index, offsetBy: separator.count)
                    start = index
                    continue
                }
            }
            index = text.index(after: index)
        }
        pieces.append(text[start...])
        return pieces
    }
}
