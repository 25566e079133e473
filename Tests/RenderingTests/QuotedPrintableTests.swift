import Foundation
import Testing

@testable import Rendering

@Suite("Quoted-printable bodies")
struct QuotedPrintableTests {
    @Test("the run-copying encoder writes exactly what the rules give, byte for byte")
    func sameAsTheRules() {
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [
            Array("plain words".utf8), Array("<a href=\"https://example.org/feedback?token=fb.1.2.MjYw.AbC\">".utf8),
            [13, 10], [13], [10], [32], [9], [32, 13, 10], [9, 13, 10], [61], Array("李伟，你好".utf8), Array("🔥".utf8),
            [0], [127], [255], Array(repeating: UInt8(ascii: "x"), count: 74), Array(repeating: UInt8(ascii: "y"), count: 75),
            Array(repeating: UInt8(ascii: "z"), count: 76), Array(repeating: 32, count: 80),
        ]
        for _ in 0..<3_000 {
            let input = (0..<Int.random(in: 0...12, using: &generator)).flatMap { _ in pieces.randomElement(using: &generator)! }
            var encoded: [UInt8] = [1, 2]
            MIMEEncoding.quotedPrintable(input, into: &encoded)
            #expect(encoded == [1, 2] + Self.byTheRules(input), "\(input)")
        }
    }

    @Test("every line is at most 76 characters, and decoding gives the input back")
    func roundTrip() {
        let input = Array(("a line of exactly seventy-five characters, padded out with some filler text \r\n"
            + String(repeating: "=", count: 40) + " \t \r\n" + String(repeating: "長い行", count: 30) + "\r\nend ").utf8)
        var encoded: [UInt8] = []
        MIMEEncoding.quotedPrintable(input, into: &encoded)
        let text = String(decoding: encoded, as: UTF8.self)
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.last != " " && $0.last != "\t" })
        #expect(Array(EmailComposerTests.decode(encoded, .quotedPrintable).utf8) == input)
    }

    /// RFC 2045 §6.7 one line at a time, one byte at a time: the encoder as first written, kept
    /// as the reference the faster one must equal.
    static func byTheRules(_ input: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        var start = 0
        while start < input.count {
            var end = start
            while end < input.count && !(input[end] == 13 && end + 1 < input.count && input[end + 1] == 10) { end += 1 }
            var column = 0
            for index in start..<end {
                let byte = input[index]
                let last = index == end - 1
                let limit = last ? 76 : 75
                if (33...126).contains(byte) && byte != 61 || (byte == 32 || byte == 9) && !last {
                    if column + 1 > limit {
                        out += [61, 13, 10]
                        column = 0
                    }
                    out.append(byte)
                    column += 1
                } else {
                    if column + 3 > limit {
                        out += [61, 13, 10]
                        column = 0
                    }
                    out += [61, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                    column += 3
                }
            }
            if end < input.count {
                out += [13, 10]
                start = end + 2
            } else {
                start = end
            }
        }
        return out
    }
}
