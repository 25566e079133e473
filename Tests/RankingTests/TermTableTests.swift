import PaperPostCore
@testable import Ranking
import Testing

@Suite("Stable word hashes and the day's word table")
struct TermTableTests {
    @Test("TermHash is 64-bit FNV-1a over UTF-8, the same in every process")
    func fnv() {
        // The reference values of the FNV-1a test suite.
        #expect(TermHash.of("") == 0xcbf2_9ce4_8422_2325)
        #expect(TermHash.of("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(TermHash.of("foobar") == 0x8594_4171_f739_67e8)
        #expect(TermHash.of("naïve") == TermHash.of(Substring("a naïve").dropFirst(2)))
    }

    @Test("every stored hash is found with its range, a hash of 0 included, and others are not")
    func lookups() {
        var entries: [(hash: UInt64, range: Range<Int>)] = (0..<1_000).map { (TermHash.of("word\($0)"), ($0 * 3)..<($0 * 3 + 3)) }
        entries.append((0, 5_000..<5_001))
        let table = TermTable(entries)
        for (hash, range) in entries { #expect(table[hash] == range) }
        #expect(table[TermHash.of("absent")] == nil)
        #expect(table[1] == 5_000..<5_001, "0 is stored as 1, which no FNV-1a word hash is likely to be")
    }

    @Test("a taste is the same value whatever order its words came in")
    func tasteOrder() {
        let one = TasteVector(["reward": 0.5, "model": -0.25, "graph": 0.1])
        let other = TasteVector(["graph": 0.1, "reward": 0.5, "model": -0.25])
        #expect(one == other)
        #expect(one.count == 3 && !one.isEmpty && TasteVector().isEmpty)
        let weight = zip(one.hashes, one.weights).first { $0.0 == TermHash.of("model") }?.1
        #expect(weight == -0.25)
    }
}
