import Foundation
import PaperPostCore
import PaperPostStore
import PostgresStore
import TestSupport
import Testing

/// The PostgreSQL curation ledger where several hosts share it.
@Suite("the curation ledger on PostgreSQL")
struct CurationLedgerTests {
    @Test("curations of one day stored at once from several connections all succeed, and the day keeps one whole digest")
    func concurrentSaves() async throws {
        let url = try await TestPostgres.newDatabase()
        try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: url), connections: 8) { database in
            let day = try Day(parsing: "2025-08-20")
            let papers = (1...6).map { AnnouncedPaper(paper: Paper(id: "2508.0000\($0)", version: 1, title: "P\($0)", abstract: "A.", authors: ["X"], categories: ["cs.AI"]), announceType: .new) }
            _ = try await PostgresPaperStore(database: database).record(day: day, categories: ["cs.AI"], papers: papers, source: "test")
            let ledger = PostgresCurationStore(database: database)
            func digest(_ run: Int) -> Digest {
                let entries = papers.shuffled().prefix(3 + run % 3).map { paper in
                    DigestEntry(
                        paper: paper.paper, score: Double(run), scoredBy: .heuristic, reasons: [.en: "run \(run)"],
                        summaries: [.zh: Summary(title: "t\(run)", background: "b", innovation: "i", details: "d", results: "r", source: .heuristic)])
                }
                return Digest(
                    day: day, mode: .heuristic, model: nil, entries: Array(entries), candidates: 6, mustRead: 1, more: 2, languages: [.zh, .en],
                    categories: ["cs.AI"], usage: TokenUsage(), notes: ["run \(run)"], createdAt: Date())
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for run in 0..<8 {
                    group.addTask { try await ledger.save(digest(run)) }
                }
                try await group.waitForAll()
            }
            let stored = try #require(try await ledger.digest(on: day))
            let run = try #require(stored.notes.first.flatMap { Int($0.dropFirst(4)) })
            #expect(stored.entries.count == 3 + run % 3, "one run's entries, not a mix")
            #expect(stored.entries.allSatisfy { $0.score == Double(run) && $0.reasons[.en] == "run \(run)" && $0.summaries[.zh]?.title == "t\(run)" })
        }
    }
}
