import Curation
import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// Curation against a real OpenAI-compatible server on 127.0.0.1 with scripted answers.
@Suite("Curation with a language model")
struct LLMCurationTests {
    static let day = Day(year: 2026, month: 2, day: 20)!
    static let templates = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path

    /// Twelve papers: ten in cs.AI/cs.LG, two in cs.RO.
    static let papers: [Paper] = (1...12).map { index in
        let id = String(format: "2602.%05d", index)
        let category = index > 10 ? "cs.RO" : (index % 2 == 0 ? "cs.LG" : "cs.AI")
        return Paper(
            id: id, version: 1, title: "Paper number \(index) on agents",
            abstract: "Agents struggle with long tasks. We propose Method\(index) for them. It splits trajectories into parts. Experiments show it improves success by 12.5 points.",
            authors: ["Author \(index)"], categories: [category])
    }

    struct World {
        var server: LocalLLMServer
        var database: PaperPostDatabase
        var settings: Settings

        var store: CurationStore { CurationStore(database: database) }

        func curate(_ options: CurationOptions = CurationOptions(), maxCost: Double? = nil) async throws -> Digest {
            var settings = settings
            settings.llm.maxCost = maxCost
            return try await Curation(settings: settings, database: database).run(options)
        }
    }

    /// A database with the fixture day and subscribers, and the model server.
    func withWorld(
        script: LLMScript = LLMScript(), readers: [(String, [String], Language)] = [("a@example.com", ["cs.AI", "cs.LG"], .zh)],
        _ body: (World) async throws -> Void
    ) async throws {
        let server = try await LocalLLMServer(script: script)
        defer { server.stop() }
        try await withTemporaryStore { subscribers, _ in
            for (email, categories, language) in readers {
                try await subscribers.add(
                    NewSubscriber(email: try EmailAddress(email), name: nil, categories: categories, language: language, status: .active),
                    source: .cli)
            }
            _ = try await PaperStore(database: subscribers.database).record(
                day: Self.day, categories: ["cs.AI", "cs.LG", "cs.RO"],
                papers: Self.papers.map { AnnouncedPaper(paper: $0, announceType: .new) }, source: "test")
            let settings = Settings(
                defaultCategories: ["cs.AI"],
                llm: LLMSettings(
                    baseURL: server.baseURL, apiKey: "test-key", model: "test-model", pricePerMillionInput: 1, pricePerMillionOutput: 2,
                    currency: "CNY", concurrency: 4, timeout: .seconds(2), retryDelay: .milliseconds(50)),
                templatesDirectory: Self.templates)
            try await body(World(server: server, database: subscribers.database, settings: settings))
        }
    }

    /// The ledger must equal what the endpoint reported, call for call.
    func expectLedgerMatchesServer(_ world: World, _ digest: Digest) async throws {
        let served = try await world.server.requests().filter { $0.delivered && $0.status == 200 }
        let prompt = served.compactMap(\.promptTokens).reduce(0, +)
        let completion = served.compactMap(\.completionTokens).reduce(0, +)
        #expect(digest.usage.promptTokens == prompt)
        #expect(digest.usage.completionTokens == completion)
        let cost = try #require(digest.usage.cost)
        #expect(abs(cost - (Double(prompt) * 1 + Double(completion) * 2) / 1_000_000) < 1e-9)
    }

    @Test("a normal day: every paper scored by the model, the best picked and summarised, every token in the ledger")
    func normalDay() async throws {
        let scores = Dictionary(uniqueKeysWithValues: Self.papers.enumerated().map { ($1.id, Double(10 - $0 / 2)) })
        try await withWorld(script: LLMScript(scores: scores)) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .llm)
            #expect(digest.scanned == 10)
            #expect(digest.entries.map(\.paper.id).prefix(3) == ["2602.00001", "2602.00002", "2602.00003"])
            #expect(digest.entries.allSatisfy { $0.scoredBy == .llm && $0.reasons[.zh]?.hasPrefix("推荐理由") == true })
            let summarised = digest.entries.filter { !$0.summaries.isEmpty }.map(\.paper.id)
            // The global top two, and the top two of cs.AI (1, 3) and of cs.LG (2, 4).
            #expect(summarised == ["2602.00001", "2602.00002", "2602.00003", "2602.00004"])
            #expect(digest.entries[0].summaries[.zh]?.title == "译：Paper number 1 on agents")
            #expect(digest.entries[0].summaries[.zh]?.source == .llm)

            let requests = try await world.server.requests()
            #expect(requests.filter { $0.task == "score" }.count == 1)
            #expect(requests.filter { $0.task == "summarize" }.count == 4)
            #expect(requests.allSatisfy { $0.authorization == "Bearer test-key" })
            try await expectLedgerMatchesServer(world, digest)
            #expect(try await world.store.calls(on: Self.day).count == 5)
        }
    }

    @Test("running curation again for the same day bills nothing; --force asks again")
    func secondRunBillsNothing() async throws {
        try await withWorld { world in
            let first = try await world.curate()
            let served = try await world.server.requests().count
            let second = try await world.curate()
            #expect(try await world.server.requests().count == served)
            #expect(second.usage == first.usage)
            #expect(second.entries.map(\.paper.id) == first.entries.map(\.paper.id))
            #expect(second.entries.map(\.score) == first.entries.map(\.score))
            #expect(second.mode == .llm)

            _ = try await world.curate(CurationOptions(force: true))
            #expect(try await world.server.requests().count == 2 * served)
        }
    }

    @Test("JSON in a code fence is accepted")
    func fencedJSON() async throws {
        try await withWorld(script: LLMScript(steps: [.fence, .fence])) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .llm)
            #expect(try await world.store.calls(on: Self.day).allSatisfy { $0.outcome == .ok })
        }
    }

    @Test("invalid JSON, a missing field, a score out of range or an unknown id is retried once with the problem stated", arguments: [
        LLMStep.invalidJSON, .missingField, .scoreOutOfRange, .unknownID,
    ])
    func invalidThenValid(step: LLMStep) async throws {
        try await withWorld(script: LLMScript(steps: [step])) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .llm)
            #expect(digest.entries.allSatisfy { $0.scoredBy == .llm })
            let calls = try await world.store.calls(on: Self.day)
            #expect(calls.first?.outcome == .invalid)
            #expect(calls.first?.detail?.isEmpty == false)
            #expect(calls.filter { $0.outcome == .invalid }.count == 1)
            try await expectLedgerMatchesServer(world, digest)
        }
    }

    @Test("an answer unusable twice falls back to the heuristic for those papers, and the digest says so")
    func invalidTwice() async throws {
        try await withWorld(script: LLMScript(steps: [.invalidJSON, .invalidJSON])) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .mixed)
            #expect(digest.entries.allSatisfy { $0.scoredBy == .heuristic })
            #expect(digest.notes.contains { $0.hasPrefix("the model's answer was unusable twice for 10 paper(s)") })
            #expect(digest.entries.filter { !$0.summaries.isEmpty }.allSatisfy { $0.summaries[.zh]?.source == .llm })
        }
    }

    @Test("429 with Retry-After is waited out")
    func rateLimited() async throws {
        try await withWorld(script: LLMScript(steps: [.status(429, retryAfter: 1)])) { world in
            let start = ContinuousClock.now
            let digest = try await world.curate()
            #expect(ContinuousClock.now - start >= .seconds(1))
            #expect(digest.mode == .llm)
            try await expectLedgerMatchesServer(world, digest)
        }
    }

    @Test("500s until retries run out fall back to the heuristic; a timeout is retried")
    func serverErrorsAndTimeouts() async throws {
        try await withWorld(script: LLMScript(steps: [.status(500), .status(500), .status(500)])) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .mixed)
            #expect(digest.entries.allSatisfy { $0.scoredBy == .heuristic })
            #expect(digest.notes.contains { $0.hasPrefix("the model could not be reached for 10 paper(s)") })
            let failed = try await world.store.calls(on: Self.day).filter { $0.outcome == .failed }
            #expect(failed.count == 1)
            #expect(failed[0].detail?.contains("500") == true)
        }
        try await withWorld(script: LLMScript(steps: [.sleep(4)])) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .llm)
        }
    }

    @Test("once the spending cap is reached no more calls are made; the rest is heuristic and the digest says so")
    func spendingCap() async throws {
        try await withWorld { world in
            let digest = try await world.curate(maxCost: 0.000_001)
            #expect(digest.mode == .mixed)
            #expect(try await world.server.requests().count == 1)
            #expect(digest.entries.allSatisfy { $0.scoredBy == .llm })
            #expect(digest.entries.filter { !$0.summaries.isEmpty }.allSatisfy { $0.summaries[.zh]?.source == .heuristic })
            #expect(digest.notes.contains { $0.hasPrefix("spending cap reached") })
            try await expectLedgerMatchesServer(world, digest)
        }
    }

    @Test("with two languages in use, reasons and summaries come in both, and cost grows with languages only")
    func twoLanguages() async throws {
        let readers: [(String, [String], Language)] = [
            ("zh1@example.com", ["cs.AI"], .zh), ("zh2@example.com", ["cs.AI"], .zh), ("en@example.com", ["cs.AI"], .en),
        ]
        try await withWorld(readers: readers) { world in
            let digest = try await world.curate()
            #expect(digest.languages == [.zh, .en])
            #expect(digest.entries.allSatisfy { $0.reasons[.zh] != nil && $0.reasons[.en]?.hasPrefix("Worth reading") == true })
            let summarised = digest.entries.filter { !$0.summaries.isEmpty }
            #expect(summarised.allSatisfy { $0.summaries[.en]?.title == $0.paper.title && $0.summaries[.zh]?.title.hasPrefix("译：") == true })
            let requests = try await world.server.requests()
            #expect(requests.filter { $0.task == "score" }.count == 1)
            #expect(requests.filter { $0.task == "summarize" }.count == 2 * summarised.count)
        }
    }

    @Test("a subscriber whose only category is not among the global picks still gets deep summaries")
    func ownCategorySummaries() async throws {
        var scores = Dictionary(uniqueKeysWithValues: Self.papers.map { ($0.id, 9.0) })
        scores["2602.00011"] = 2
        scores["2602.00012"] = 3
        let readers: [(String, [String], Language)] = [("ai@example.com", ["cs.AI", "cs.LG"], .en), ("robots@example.com", ["cs.RO"], .en)]
        try await withWorld(script: LLMScript(scores: scores), readers: readers) { world in
            let digest = try await world.curate()
            #expect(!digest.picks.prefix(2).contains { $0.paper.categories.contains("cs.RO") })
            let robots = digest.edition(for: ["cs.RO"])
            #expect(robots.mustRead.map(\.paper.id) == ["2602.00012", "2602.00011"])
            #expect(robots.mustRead.allSatisfy { $0.summaries[.en]?.source == .llm })
        }
    }

    @Test("a sentence with a number the abstract never gave is dropped, and that is recorded")
    func inventedNumbers() async throws {
        try await withWorld(script: LLMScript(steps: [.ok, .inventedNumber])) { world in
            let digest = try await world.curate()
            let summaries = digest.entries.compactMap { $0.summaries[.zh] }
            #expect(summaries.allSatisfy { !$0.results.contains("97.3") })
            #expect(digest.notes.contains { $0.contains("dropped 1 sentence(s) with numbers not in the abstract") })
            #expect(try await world.store.calls(on: Self.day).contains { $0.detail?.contains("numbers not in the abstract") == true })
        }
    }
}
