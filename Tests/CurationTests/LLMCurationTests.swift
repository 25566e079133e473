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

        /// The ledger without the run's probe: the calls that did the work.
        func work() async throws -> [LLMCall] {
            try await store.calls(on: LLMCurationTests.day).filter { $0.purpose != .probe }
        }

        /// What the endpoint was asked, without the probes.
        func asked() async throws -> [RecordedLLMRequest] {
            try await server.requests().filter { $0.task != "ping" }
        }

        func curate(_ options: CurationOptions = CurationOptions(), maxCost: Double? = nil) async throws -> Digest {
            var settings = settings
            settings.llm.maxCost = maxCost
            return try await Curation(settings: settings, database: database).run(options)
        }
    }

    /// A database with the fixture day and subscribers, and the model server.
    ///
    /// - Parameter timeout: per model call. Long by default, so that a loaded machine never
    ///   turns a normal answer into a timeout; only the test of timeouts shortens it.
    func withWorld(
        script: LLMScript = LLMScript(), readers: [(String, [String], Language)] = [("a@example.com", ["cs.AI", "cs.LG"], .zh)],
        timeout: Duration = .seconds(120), papers: [Paper] = papers, configure: (inout LLMSettings) -> Void = { _ in },
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
                papers: papers.map { AnnouncedPaper(paper: $0, announceType: .new) }, source: "test")
            var settings = Settings(
                defaultCategories: ["cs.AI"],
                llm: LLMSettings(
                    baseURL: server.baseURL, apiKey: "test-key", model: "test-model", pricePerMillionInput: 1, pricePerMillionOutput: 2,
                    currency: "CNY", concurrency: 4, timeout: timeout, retryDelay: .milliseconds(50)),
                templatesDirectory: Self.templates)
            configure(&settings.llm)
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
            // Only the must-read papers of the one edition that will be sent (cs.AI and cs.LG, zh).
            #expect(summarised == ["2602.00001", "2602.00002"])
            #expect(digest.entries[0].summaries[.zh]?.title == "译：Paper number 1 on agents")
            #expect(digest.entries[0].summaries[.zh]?.source == .llm)

            let requests = try await world.server.requests()
            #expect(requests.filter { $0.task == "score" }.count == 1)
            #expect(requests.filter { $0.task == "summarize" }.count == 2)
            #expect(requests.allSatisfy { $0.authorization == "Bearer test-key" })
            try await expectLedgerMatchesServer(world, digest)
            #expect(try await world.work().count == 3)
            // One probe, beside the first call, billed like any call.
            #expect(requests.filter { $0.task == "ping" }.count == 1)
            #expect(try await world.store.calls(on: Self.day).filter { $0.purpose == .probe }.map(\.outcome) == [.ok])
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

            let forced = try await world.curate(CurationOptions(force: true))
            #expect(try await world.server.requests().count == 2 * served)
            // The digest's figures are its own, not the day's total of both runs.
            #expect(forced.usage.promptTokens == first.usage.promptTokens)
            #expect(forced.usage.completionTokens == first.usage.completionTokens)
            #expect(abs((forced.usage.cost ?? -1) - (first.usage.cost ?? 1)) < 1e-12)
            #expect(try await world.store.usage(on: Self.day, currency: "CNY").totalTokens == 2 * first.usage.totalTokens)
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
            let calls = try await world.work()
            #expect(calls.first?.outcome == .invalid)
            #expect(calls.first?.detail?.isEmpty == false)
            #expect(calls.filter { $0.outcome == .invalid }.count == 1)
            try await expectLedgerMatchesServer(world, digest)
        }
    }

    @Test("a batch unusable twice is asked paper by paper, each in a short conversation of its own, before any heuristic")
    func invalidTwice() async throws {
        try await withWorld(script: LLMScript(steps: [.invalidJSON, .invalidJSON])) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .llm)
            #expect(digest.entries.allSatisfy { $0.scoredBy == .llm })
            let scoring = try await world.server.requests().filter { $0.task == "score" }
            #expect(scoring.map(\.paperIDs.count) == [10, 10] + Array(repeating: 1, count: 10))
            try await expectLedgerMatchesServer(world, digest)
        }
        try await withWorld(script: LLMScript(steps: Array(repeating: .invalidJSON, count: 12))) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .mixed)
            #expect(digest.entries.allSatisfy { $0.scoredBy == .heuristic })
            #expect(digest.notes.contains { $0.hasPrefix("the model's answer was still unusable when asked again for 10 paper(s)") })
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

    @Test("three 500s fail a batch, whose papers are then asked one by one; a timeout is retried")
    func serverErrorsAndTimeouts() async throws {
        try await withWorld(script: LLMScript(steps: [.status(500), .status(500), .status(500)])) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .llm)
            #expect(digest.modelFailure == nil)
            let failed = try await world.store.calls(on: Self.day).filter { $0.outcome == .failed }
            #expect(failed.count == 3)
            #expect(failed.allSatisfy { $0.detail?.contains("HTTP 500") == true })
            let scoring = try await world.server.requests().filter { $0.task == "score" }
            #expect(scoring.map(\.paperIDs.count) == [10, 10, 10] + Array(repeating: 1, count: 10))
        }
        // The first call would be answered after five minutes, so only the 10 s timeout ends it;
        // the retry, and every other call, has those 10 s (and two more tries) for a normal answer.
        try await withWorld(script: LLMScript(steps: [.sleep(300)]), timeout: .seconds(10)) { world in
            let digest = try await world.curate()
            #expect(digest.mode == .llm)
            let requests = try await world.asked()
            #expect(requests.first?.delivered == false)
            #expect(requests.filter { $0.task == "score" }.count == 2)
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
            // The emptied field holds the abstract's English sentence, marked as original, and
            // the mark survives the store.
            let marked = summaries.filter { !$0.originalFields.isEmpty }
            #expect(marked.count == 1)
            #expect(marked.first?.originalFields == [.results])
            #expect(marked.first?.results.hasPrefix("【中文】") == false)
            let stored = try #require(try await world.store.digest(on: Self.day))
            #expect(stored.entries.compactMap { $0.summaries[.zh] }.filter { $0.originalFields == [.results] }.count == 1)
            #expect(digest.notes.contains { $0.contains("dropped 1 sentence(s) with numbers not in the abstract") })
            #expect(try await world.store.calls(on: Self.day).contains { $0.detail?.contains("numbers not in the abstract") == true })
        }
    }
}
