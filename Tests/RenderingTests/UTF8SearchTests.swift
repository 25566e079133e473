import Testing

@testable import Rendering

@Suite("Searching rendered text by UTF-8 bytes")
struct UTF8SearchTests {
    @Test("finds the same range as firstRange(of:), in strings and substrings", arguments: [
        ("plain text with a needle in it", "needle"),
        ("aaab", "aab"),
        ("ends with a partial nee", "needle"),
        ("李伟，你好！\u{E000}why_2602.00001\u{E001} 的", "\u{E000}why_"),
        ("no marker here", "\u{E000}"),
        ("e\u{301}\u{E000}cut\u{E001}", "\u{E000}cut\u{E001}"),
        ("🔥=?utf-8?=", "=?"),
        ("", "x"),
    ])
    func sameAsFirstRange(haystack: String, needle: String) {
        let expected = haystack.firstRange(of: needle).map { haystack.distance(from: haystack.startIndex, to: $0.lowerBound) }
        let found = haystack.firstUTF8Range(of: needle)
        #expect(found.map { haystack.distance(from: haystack.startIndex, to: $0.lowerBound) } == expected)
        #expect(found.map { String(haystack[$0]) } == (expected == nil ? nil : needle))
        let substring = ("›" + haystack + "‹").dropFirst().dropLast()
        #expect(substring.firstUTF8Range(of: needle).map { String(substring[$0]) } == (expected == nil ? nil : needle))
        #expect(haystack.containsUTF8(needle) == (expected != nil))
    }

    @Test("on byte arrays: the slot marker's three bytes, not a lead byte alone or a marker cut short")
    func bytes() {
        let marker = Array("\u{E000}".utf8)
        #expect(Array("a\u{E000}b".utf8).firstRange(ofBytes: marker) == 1..<4)
        #expect(Array("\u{E0FF}\u{E000}".utf8).firstRange(ofBytes: marker) == 3..<6)
        #expect(Array("ab".utf8 + [0xEE, 0x80]).firstRange(ofBytes: marker) == nil)
        #expect([UInt8]().firstRange(ofBytes: marker) == nil)
    }

    @Test("lines cut by UTF-8 are the lines split(separator:) gives, empty ones and the last included", arguments: [
        "", "\n", "one", "one\n", "one\ntwo", "\n\nthree\n\n", "李伟\n你好\u{E000}why_1\u{E001}\n", "é\u{301}\nx",
    ])
    func lines(text: String) {
        #expect(text.utf8Lines() == text.split(separator: "\n", omittingEmptySubsequences: false))
        let substring = text[...]
        #expect(substring.utf8Lines() == substring.split(separator: "\n", omittingEmptySubsequences: false))
    }
}
