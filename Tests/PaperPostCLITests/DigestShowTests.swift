import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

@Suite("paperpost digest show after a failed curation")
struct DigestShowTests {
    @Test("names the refusal that stopped the run, not the calls abandoned after it, in whatever order they were recorded")
    func causeNotConsequence() async throws {
        try await withTemporaryDirectory { directory in
            let day = Day(year: 2025, month: 8, day: 20)!
            let database = try PaperPostDatabase.open(path: directory.appendingPathComponent("var/paperpost.sqlite").path)
            let paper = Paper(id: "2508.00001", version: 1, title: "A paper", abstract: "An abstract.", authors: ["A"], categories: ["cs.AI"])
            _ = try await PaperStore(database: database).record(
                day: day, categories: ["cs.AI"], papers: [AnnouncedPaper(paper: paper, announceType: .new)], source: "test")
            let ledger = CurationStore(database: database)
            func call(_ detail: String) -> LLMCall {
                LLMCall(
                    day: day, purpose: .score, language: nil, model: "m", paperIDs: [paper.id], promptTokens: 0, completionTokens: 0,
                    cost: nil, currency: "CNY", latency: .zero, outcome: .failed, detail: detail)
            }
            try await ledger.record(call("HTTP 401: the endpoint refused the key; check PAPERPOST_LLM_API_KEY"))
            try await ledger.record(call("abandoned: the run had stopped calling the model"))
            let shown = try await CommandLineRunner(directory: directory).run("digest", "show")
            #expect(shown.status == 1)
            #expect(shown.stderr.contains("HTTP 401"), "\(shown.stderr)")
            #expect(!shown.stderr.contains("abandoned"))
        }
    }
}
