import Foundation
import Inbound

/// Classifying inbound mail: the 303 real bounces, complaints and auto-replies of the test
/// corpus, read from disk once, then parsed and classified again and again on one task (one
/// core). Target (issue 13): at least 1,000 messages a second.
enum InboundBenchmark {
    static func run(corpus: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".eml") }.sorted()
        let messages = try names.map { Array(try Data(contentsOf: corpus.appendingPathComponent($0))) }
        let bytes = messages.reduce(0) { $0 + $1.count }
        let classifier = InboundClassifier(unsubscribeAddress: "leave@example.org")
        var rates: [Double] = []
        var kinds = 0
        for _ in 0..<5 {
            let start = ContinuousClock.now
            var count = 0
            while ContinuousClock.now - start < .seconds(2) {
                for message in messages {
                    kinds &+= classifier.classify(message).recipients.count
                    count += 1
                }
            }
            rates.append(Double(count) / (ContinuousClock.now - start).seconds)
        }
        rates.sort()
        print("inbound: classify \(messages.count) real messages (\(bytes / 1024) KiB) on one task, 5 runs of 2 s (\(kinds) recipients read)")
        print(String(format: "  median %.0f msg/s; worst %.0f, best %.0f  [target ≥ 1000 msg/s]", rates[2], rates[0], rates[4]))
    }
}
