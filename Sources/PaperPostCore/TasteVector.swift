/// A reader's taste as ranking reads it: each word's ``TermHash`` beside its weight, made once
/// when the reader is loaded. Ranking compares 100,000 tastes with the day's papers; hashing
/// their words as strings there (Swift's seeded hashing, for every word of every reader, every
/// day) was most of the time it took, and a stable hash lets the day's index be looked up with
/// the number alone.
public struct TasteVector: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// Ascending, so that equal tastes are equal values.
    public let hashes: [UInt64]
    public let weights: [Double]

    /// - Parameter weights: word → weight, as `TasteProfile` makes and stores them.
    public init(_ weights: [String: Double] = [:]) {
        let pairs = weights.map { (TermHash.of($0.key), $0.value) }.sorted { $0.0 < $1.0 }
        hashes = pairs.map(\.0)
        self.weights = pairs.map(\.1)
    }

    public init(dictionaryLiteral elements: (String, Double)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public var isEmpty: Bool { hashes.isEmpty }
    public var count: Int { hashes.count }
}

/// FNV-1a (64 bits) of a word's UTF-8 bytes: the same on every machine and in every process, so
/// a reader's taste can be hashed once and looked up in any day's index. Not keyed, which is
/// fine for this use: the words are lower-case terms from paper abstracts, not attacker-chosen
/// keys of a table that must stay fast, and a collision only nudges one similarity.
public enum TermHash {
    public static func of(_ term: some StringProtocol) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in term.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
