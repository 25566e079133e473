import Curation
import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport

/// Curating 50 scanned papers into 9 picks in one language, against a local
/// OpenAI-compatible server that takes 2 seconds per answer. Target (issue 4): under 20 s.
enum CurationBenchmark {
    static func run(templates: String) async throws {
        let server = try await LocalLLMServer(script: LLMScript(latencySeconds: 2))
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paperpost-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try PaperPostDatabase.open(path: directory.appendingPathComponent("bench.sqlite").path)
        var settings = Settings(
            llm: LLMSettings(baseURL: server.baseURL, apiKey: "test-key", model: "bench", pricePerMillionInput: 1, pricePerMillionOutput: 2),
            templatesDirectory: templates)
        settings.databasePath = directory.path
        let subscribers = SubscriberStore(database: database, settings: settings)
        for (index, categories) in [["cs.AI"], ["cs.CL"], ["cs.LG"], ["cs.AI", "cs.LG"]].enumerated() {
            try await subscribers.add(
                NewSubscriber(email: try EmailAddress("reader\(index)@example.com"), name: nil, categories: categories, language: .zh, status: .active),
                source: .cli)
        }
        let categories = ["cs.AI", "cs.CL", "cs.LG"]
        let papers = (0..<64).map { index in
            Paper(
                id: String(format: "2602.%05d", index), version: 1, title: "Paper \(index) about language model agents",
                abstract: "Agents fail on long tasks. We propose Method\(index). It splits trajectories. Experiments show it improves success.",
                authors: ["A. Author"], categories: [categories[index % 3]])
        }
        let day = Day(year: 2026, month: 2, day: 20)!
        _ = try await PaperStore(database: database).record(
            day: day, categories: categories, papers: papers.map { AnnouncedPaper(paper: $0, announceType: .new) }, source: "bench")

        let start = ContinuousClock.now
        let digest = try await Curation(settings: settings, database: database).run(CurationOptions(day: day, scan: 50, mustRead: 2, more: 7))
        let elapsed = ContinuousClock.now - start
        let requests = try await server.requests()
        print("curation: \(digest.scanned) scanned of \(digest.candidates), \(digest.picks.count) picked, one language, model latency 2 s, concurrency \(settings.llm.concurrency)")
        print("  \(requests.filter { $0.task == "score" }.count) score + \(requests.filter { $0.task == "summarize" }.count) summary calls, "
            + "\(digest.usage.totalTokens) tokens, mode \(digest.mode.rawValue): \(elapsed.ms)  [target < 20000 ms]")
    }
}
