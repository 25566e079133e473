import Foundation
import Inbound
import Testing

/// The classifier against 303 real bounces, complaints and auto-replies (sisimai's corpus) and
/// an independent classifier's verdicts on them.
@Suite("bounce corpus")
struct CorpusTests {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/bounces")

    struct Verdict: Decodable {
        var status: String
        var reply_code: String
        var reason: String
        var hard: Bool
        var feedback_type: String?
    }

    static func corpus() throws -> [(name: String, bytes: [UInt8], verdicts: [Verdict])] {
        let expected = try JSONDecoder().decode(
            [String: [Verdict]].self, from: Data(contentsOf: directory.appendingPathComponent("expected.json")))
        return try expected.keys.sorted().map { name in
            (name, Array(try Data(contentsOf: directory.appendingPathComponent("\(name).eml"))), expected[name]!)
        }
    }

    @Test("agrees with the verdicts on ≥ 95 % of hard/soft flags and ≥ 90 % of status codes")
    func agreement() throws {
        let classifier = InboundClassifier()
        var total = 0, hard = 0, status = 0
        var disagreements: [String] = []
        for message in try Self.corpus() {
            let report = classifier.classify(message.bytes)
            for (index, verdict) in message.verdicts.enumerated() {
                total += 1
                let got = index < report.recipients.count ? report.recipients[index] : nil
                if (got?.hard ?? false) == verdict.hard { hard += 1 } else { disagreements.append("\(message.name)#\(index) hard") }
                if (got?.status ?? "") == verdict.status { status += 1 }
            }
        }
        #expect(total == 320)
        #expect(Double(hard) / Double(total) >= 0.95, "hard/soft agreement \(hard)/\(total): \(disagreements)")
        #expect(Double(status) / Double(total) >= 0.90, "status agreement \(status)/\(total)")
    }

    @Test("complaints are complaints with their feedback type, auto-replies are auto-replies")
    func kinds() throws {
        let classifier = InboundClassifier()
        for message in try Self.corpus() where message.name.hasPrefix("arf-") || message.name.hasPrefix("rfc3834-") {
            let report = classifier.classify(message.bytes)
            if message.name.hasPrefix("arf-") {
                #expect(report.kind == .complaint, "\(message.name)")
                #expect(report.feedbackType == message.verdicts.first?.feedback_type, "\(message.name)")
            } else {
                #expect(report.kind == .autoReply, "\(message.name)")
            }
        }
    }

    @Test("no message crashes it, nor any truncated or garbled copy")
    func hostileCopies() throws {
        let classifier = InboundClassifier()
        var generator = SplitMix64(seed: 2026)
        for message in try Self.corpus() {
            let bytes = message.bytes
            for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 5)) {
                _ = classifier.classify(bytes.prefix(cut))
            }
            var garbled = bytes
            for _ in 0..<max(1, bytes.count / 50) {
                let index = Int(generator.next() % UInt64(garbled.count))
                garbled[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = classifier.classify(garbled)
        }
        _ = classifier.classify([UInt8]())
        _ = classifier.classify(Array(repeating: UInt8(ascii: "\n"), count: 1000))
        // A multipart nested far deeper than any real bounce.
        var nested = "Content-Type: text/plain\n\nend"
        for level in 0..<200 {
            nested = "Content-Type: multipart/mixed; boundary=\"b\(level)\"\n\n--b\(level)\n\(nested)\n--b\(level)--\n"
        }
        _ = classifier.classify(Array(nested.utf8))
    }
}

/// A small deterministic generator, so a failing garbled copy can be made again.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
