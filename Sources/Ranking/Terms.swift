import Foundation

/// Words as ranking compares them: lower case, accents folded, split on anything that is not
/// a letter or digit ("retrieval-augmented" is two words), common English words dropped, and
/// a plural's final "s" taken off, so that "language models" finds "language model".
enum Terms {
    static func of(_ text: String) -> [Substring] {
        folded(text).split(whereSeparator: { !($0.isLetter || $0.isNumber) }).compactMap { word in
            guard !stopWords.contains(word) else { return nil }
            return stemmed(word)
        }
    }

    /// Lower case without accents. Most titles and abstracts are ASCII, and Foundation's folding
    /// goes through an `NSString` for every call: ASCII takes the short way.
    static func folded(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.lowercased() }
        return text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
    }

    /// The plural rule only: "models" → "model", "agents" → "agent", "policies" → "policy";
    /// words that merely end in s ("bias", "loss", "analysis") keep it.
    static func stemmed(_ word: Substring) -> Substring {
        guard word.count > 3, word.last == "s" else { return word }
        if word.hasSuffix("ies"), word.count > 4 { return word.dropLast(3) + "y" }
        if word.hasSuffix("ss") || word.hasSuffix("us") || word.hasSuffix("is") || word.hasSuffix("ous") { return word }
        return word.dropLast()
    }

    static let stopWords: Set<Substring> = [
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "its", "of", "on", "or",
        "our", "that", "the", "their", "this", "to", "we", "with", "which", "while", "these", "those", "can", "via", "using",
    ]
}

/// An author's name as following compares it: folded words, so that "Fei-Fei Li", "fei fei li"
/// and "Fei-Fei LI" are one person, and an initial matches a first name ("Y. Bengio" follows
/// "Yoshua Bengio").
struct AuthorName: Hashable {
    let words: [Substring]

    init?(_ name: String) {
        let words = Terms.folded(name).split(whereSeparator: { !($0.isLetter || $0.isNumber) })
        guard !words.isEmpty else { return nil }
        self.words = words
    }

    /// Same surname (last word) and compatible first names: equal, or one is the other's initial.
    func matches(_ other: AuthorName) -> Bool {
        guard words.last == other.words.last else { return false }
        guard words.count > 1, other.words.count > 1 else { return words == other.words }
        let mine = words[0]
        let theirs = other.words[0]
        if mine == theirs { return words.count == other.words.count ? words == other.words : true }
        return (mine.count == 1 && theirs.hasPrefix(mine)) || (theirs.count == 1 && mine.hasPrefix(theirs))
    }
}
