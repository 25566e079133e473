import ArxivSource
import Foundation
import PaperPostCore
import PaperPostStore

/// Parsing and storing a 2,000-entry arXiv API document: the entries of a real 100-entry
/// response repeated 20 times, each copy with fresh ids so that every one is a new paper.
/// Target (issue 3): under 1 second in a release build.
enum ArxivBenchmark {
    static func run(fixture: URL) async throws {
        let data = try twoThousandEntryDocument(from: fixture)
        var timings: [(parse: Duration, store: Duration)] = []
        for _ in 0..<5 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paperpost-bench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try PaperPostDatabase.open(path: directory.appendingPathComponent("bench.sqlite").path)
            let store = PaperStore(database: database)

            let start = ContinuousClock.now
            let papers = try ArxivAPIResponse.parse(data).papers
            let parsed = ContinuousClock.now
            let tally = try await store.record(
                day: Day(year: 2026, month: 1, day: 5)!, categories: ["cs.SE"],
                papers: papers.map { AnnouncedPaper(paper: $0, announceType: .new) }, source: "bench")
            let stored = ContinuousClock.now
            guard papers.count == 2_000, tally.total.new == 2_000 else {
                fatalError("expected 2,000 new papers, got \(papers.count) parsed and \(tally.total.new) stored")
            }
            timings.append((parsed - start, stored - parsed))
        }
        let totals = timings.map { $0.parse + $0.store }.sorted()
        let median = timings.sorted { $0.parse + $0.store < $1.parse + $1.store }[timings.count / 2]
        print("arXiv: parse + store 2,000 API entries (\(data.count / 1024) KiB), 5 runs")
        print("  median \(median.parse.ms) parse + \(median.store.ms) store = \((median.parse + median.store).ms); best \(totals[0].ms), worst \(totals.last!.ms)  [target < 1000 ms]")
    }

    static func twoThousandEntryDocument(from fixture: URL) throws -> Data {
        let source = try String(contentsOf: fixture, encoding: .utf8)
        guard let firstEntry = source.range(of: "<entry>")?.lowerBound,
            let feedEnd = source.range(of: "</feed>", options: .backwards)?.lowerBound
        else { fatalError("\(fixture.path) does not look like an API response") }
        let blocks = source[firstEntry..<feedEnd].components(separatedBy: "</entry>").dropLast()
        var document = String(source[..<firstEntry])
        var serial = 0
        for _ in 0..<20 {
            for block in blocks {
                guard let idStart = block.range(of: "<id>"), let idEnd = block.range(of: "</id>") else {
                    fatalError("an entry without <id>")
                }
                document += block[..<idStart.upperBound] + "http://arxiv.org/abs/2601.\(String(format: "%05d", serial))v1"
                document += block[idEnd.lowerBound...] + "</entry>"
                serial += 1
            }
        }
        return Data((document + "\n</feed>\n").utf8)
    }
}

extension Duration {
    var ms: String {
        String(format: "%.1f ms", Double(components.seconds) * 1e3 + Double(components.attoseconds) / 1e15)
    }
}
