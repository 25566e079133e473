import Curation
import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport

/// Curating 50 scanned papers into 9 picks in one language, against a local OpenAI-compatible
/// server that takes 2 seconds per answer (targets: no slower than before issue 12, about 8 s;
/// at most 25,000 tokens); then the same day against a dead endpoint, every request answered 500
/// or stalled (target: decided in under 60 s).
enum CurationBenchmark {
    static func run(templates: String) async throws {
        let healthy = try await curate(LLMScript(latencySeconds: 2), templates: templates)
        print("curation: \(healthy.digest.scanned) scanned of \(healthy.digest.candidates), \(healthy.digest.picks.count) picked, "
            + "one language, model latency 2 s, concurrency \(healthy.concurrency)")
        print("  \(healthy.probeCalls) probe + \(healthy.scoreCalls) score + \(healthy.summaryCalls) summary calls, \(healthy.digest.usage.promptTokens) prompt + "
            + "\(healthy.digest.usage.completionTokens) completion = \(healthy.digest.usage.totalTokens) tokens, "
            + "mode \(healthy.digest.mode.rawValue): \(healthy.elapsed.ms)  [target ≤ about 8000 ms, ≤ 25000 tokens]")

        for (name, step) in [("every request 500", LLMStep.status(500)), ("every request stalled", .sleep(600))] {
            let dead = try await curate(LLMScript(defaultStep: step), templates: templates)
            print("dead endpoint (\(name), timeout \(dead.timeout.components.seconds) s, probe \(dead.probeTimeout.components.seconds) s, "
                + "deadline \(dead.deadline.components.seconds) s): \(dead.outcome) after \(dead.probeCalls + dead.scoreCalls + dead.summaryCalls) "
                + "requests in \(dead.elapsed.ms)  [target < 60000 ms]")
        }
    }

    struct Run {
        var digest: Digest
        var outcome: String
        var elapsed: Duration
        var probeCalls: Int
        var scoreCalls: Int
        var summaryCalls: Int
        var concurrency: Int
        var timeout: Duration
        var probeTimeout: Duration
        var deadline: Duration
    }

    static func curate(_ script: LLMScript, templates: String) async throws -> Run {
        let server = try await LocalLLMServer(script: script)
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paperpost-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try PaperPostDatabase.open(path: directory.appendingPathComponent("bench.sqlite").path)
        // The default timeout (120 s) and deadline (300 s), as an operator would run it.
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
        let digest: Digest
        let outcome: String
        do {
            digest = try await Curation(settings: settings, database: database).run(CurationOptions(day: day, scan: 50, mustRead: 2, more: 7))
            outcome = digest.modelFailure == nil ? "curated (\(digest.mode.rawValue))" : "heuristic fallback"
        } catch let failure as CurationFailed {
            outcome = "failed (\(failure.stop.cause.rawValue))"
            digest = Digest(
                day: day, mode: .heuristic, model: nil, entries: [], candidates: 0, mustRead: 2, more: 7, languages: [], categories: [],
                usage: TokenUsage(), notes: [], createdAt: Date())
        }
        let elapsed = ContinuousClock.now - start
        let requests = try await server.requests()
        return Run(
            digest: digest, outcome: outcome, elapsed: elapsed, probeCalls: requests.filter { $0.task == "ping" }.count, scoreCalls: requests.filter { $0.task == "score" }.count,
            summaryCalls: requests.filter { $0.task == "summarize" }.count, concurrency: settings.llm.concurrency,
            timeout: settings.llm.timeout, probeTimeout: settings.llm.probeTimeout, deadline: settings.llm.deadline)
    }
}
