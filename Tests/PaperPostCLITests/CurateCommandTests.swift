import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

@Suite("paperpost curate and digest show")
struct CurateCommandTests {
    static let templates = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path

    @Test("without an API key curation is heuristic, says so, and costs nothing")
    func heuristicDay() async throws {
        try await withTemporaryDirectory { directory in
            let cli = CommandLineRunner(directory: directory, environment: ["PAPERPOST_TEMPLATES": Self.templates])
            let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
            _ = try await cli.run("subscribers", "add", "a@example.com", "--categories", "cs.AI")
            #expect(try await cli.run("fetch", "--feed", feed.path).status == 0)

            let result = try await cli.run("curate", "--more", "3")
            #expect(result.status == 0)
            #expect(result.stdout == """
                curated 2025-08-20 (heuristic): scanned 7 of 7, picked 5; tokens 0 (0 in, 0 out); cost not priced
                note: heuristic curation: no PAPERPOST_LLM_API_KEY is set

                """)
            let shown = try await cli.run("digest", "show", "--format", "json")
            let digests = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]])
            let digest = try #require(digests.first)
            #expect(digest["mode"] as? String == "heuristic")
            #expect(digest["scanned"] as? Int == 7)
            #expect(digest["picked"] as? Int == 5)
            let entries = try #require(digest["entries"] as? [[String: Any]])
            #expect(entries.map { $0["pick"] as? String }.prefix(3) == ["must_read", "must_read", "more"])
            let summaries = try #require(entries[0]["summaries"] as? [String: [String: Any]])
            #expect(summaries["zh"]?["source"] as? String == "heuristic")
            #expect(summaries["zh"]?["original_fields"] as? [String] == [])
            #expect(entries[0]["addresses_model"] as? [String] == [])
        }
    }

    @Test("curating before anything was fetched is an input error naming what to do")
    func nothingFetched() async throws {
        try await withTemporaryDirectory { directory in
            let result = try await CommandLineRunner(directory: directory).run("curate", "--date", "2026-02-20")
            #expect(result.status == 1)
            #expect(result.stderr == "paperpost: no arXiv announcement is recorded for 2026-02-20; run 'paperpost fetch' first\n")
        }
    }

    @Test("with a model, the API key is sent but never stored in the database")
    func keyNeverStored() async throws {
        let server = try await LocalLLMServer(apiKey: "sk-very-secret-key")
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = CommandLineRunner(directory: directory, environment: [
                "PAPERPOST_TEMPLATES": Self.templates, "PAPERPOST_LLM_BASE_URL": server.baseURL,
                "PAPERPOST_LLM_API_KEY": "sk-very-secret-key", "PAPERPOST_LLM_MODEL": "test-model",
                "PAPERPOST_LLM_PRICE_INPUT": "1", "PAPERPOST_LLM_PRICE_OUTPUT": "2",
            ])
            let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
            _ = try await cli.run("fetch", "--feed", feed.path)
            let result = try await cli.run("curate")
            #expect(result.status == 0)
            #expect(result.stdout.hasPrefix("curated 2025-08-20 (llm, test-model): scanned 7 of 7, picked 7; tokens "))
            for file in try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("var").path) {
                let bytes = try Data(contentsOf: directory.appendingPathComponent("var/\(file)"))
                #expect(bytes.range(of: Data("sk-very-secret-key".utf8)) == nil, "the key is in \(file)")
            }
            #expect(!(result.stdout + result.stderr).contains("sk-very-secret"))
        }
    }

    /// A CLI whose model is `server`, with the fixture day fetched by `daily --feed`.
    func modelCLI(_ directory: URL, _ server: LocalLLMServer, _ extra: [String: String] = [:]) -> CommandLineRunner {
        CommandLineRunner(directory: directory, environment: [
            "PAPERPOST_TEMPLATES": Self.templates, "PAPERPOST_LLM_BASE_URL": server.baseURL,
            "PAPERPOST_LLM_API_KEY": "test-key", "PAPERPOST_LLM_MODEL": "test-model", "PAPERPOST_LLM_RETRY_DELAY": "0",
            "PAPERPOST_LLM_PRICE_INPUT": "1", "PAPERPOST_LLM_PRICE_OUTPUT": "2",
        ].merging(extra) { $1 })
    }

    func outbox(_ directory: URL) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("var/outbox").path)) ?? []
    }

    @Test("a refused key: curate exits 2 naming PAPERPOST_LLM_API_KEY after one request, and digest show says what happened")
    func refusedKey() async throws {
        let server = try await LocalLLMServer(apiKey: "the-right-key")
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = modelCLI(directory, server)
            let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
            _ = try await cli.run("fetch", "--feed", feed.path)
            let result = try await cli.run("curate")
            #expect(result.status == 2)
            #expect(result.stderr.hasPrefix("paperpost: curation of 2025-08-20 failed: "))
            #expect(result.stderr.contains("HTTP 401"))
            #expect(result.stderr.contains("PAPERPOST_LLM_API_KEY"))
            #expect(result.stderr.contains("PAPERPOST_LLM_FALLBACK"))
            // The probe and the first wave of batches (four at most) go out together; nothing after the refusal.
            #expect(try await server.requests().count <= 1 + 4)
            let shown = try await cli.run("digest", "show")
            #expect(shown.status == 1)
            #expect(shown.stderr.contains("no digest for 2025-08-20: the last curation failed"))
            #expect(shown.stderr.contains("PAPERPOST_LLM_API_KEY"))
        }
    }

    @Test("daily with a dead endpoint and no fallback sends nothing and exits 2; the next run tries again")
    func dailySendsNothing() async throws {
        let server = try await LocalLLMServer(script: LLMScript(defaultStep: .status(500)))
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = modelCLI(directory, server)
            let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
            _ = try await cli.run("subscribers", "add", "a@example.com", "--categories", "cs.AI")
            let result = try await cli.run("daily", "--feed", feed.path, "--transport", "outbox")
            #expect(result.status == 2)
            #expect(result.stderr.contains("curation of 2025-08-20 failed"))
            #expect(result.stderr.contains("HTTP 500"))
            #expect(outbox(directory).isEmpty)
            #expect(try await server.requests().count <= 7)
            // The operator's metrics read how each run ended.
            let runs = DailyRunStore(database: try PaperPostDatabase.open(path: directory.appendingPathComponent("var/paperpost.sqlite").path))
            let failed = try #require(try await runs.last())
            #expect(failed.outcome == .failed)
            #expect(failed.day == Day(year: 2025, month: 8, day: 20))
            #expect(failed.detail?.contains("curation of 2025-08-20 failed") == true)
            #expect(failed.finishedAt != nil)

            try await server.setScript(LLMScript())
            let again = try await cli.run("daily", "--feed", feed.path, "--transport", "outbox")
            #expect(again.status == 0)
            #expect(again.stdout.contains("curate: curated 2025-08-20 (llm, test-model)"))
            #expect(outbox(directory).count == 1)
            let ok = try #require(try await runs.last())
            #expect(ok.outcome == .ok)
            #expect(ok.id > failed.id)
        }
    }

    @Test("daily with PAPERPOST_LLM_FALLBACK=heuristic sends the labelled heuristic digest and exits 3")
    func dailyFallback() async throws {
        let server = try await LocalLLMServer(script: LLMScript(defaultStep: .status(402)))
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = modelCLI(directory, server, ["PAPERPOST_LLM_FALLBACK": "heuristic"])
            let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
            _ = try await cli.run("subscribers", "add", "a@example.com", "--categories", "cs.AI")
            let result = try await cli.run("daily", "--feed", feed.path, "--transport", "outbox")
            #expect(result.status == 3)
            let run = try await DailyRunStore(database: try PaperPostDatabase.open(path: directory.appendingPathComponent("var/paperpost.sqlite").path)).last()
            #expect(run?.outcome == .partial, "a fallback digest is a partial run")
            #expect(result.stderr.contains("heuristic fallback"))
            #expect(result.stderr.contains("insufficient balance"))
            #expect(result.stdout.contains("curate: curated 2025-08-20 (heuristic, test-model)"))
            #expect(outbox(directory).count == 1)
            // The probe and the first wave of batches (four at most) go out together; nothing after the refusal.
            #expect(try await server.requests().count <= 1 + 4)

            let shown = try await cli.run("digest", "show", "--format", "json")
            let digests = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]])
            #expect((digests.first?["model_failure"] as? String)?.contains("HTTP 402") == true)
            #expect(digests.first?["mode"] as? String == "heuristic")
        }
    }

    @Test("PAPERPOST_LLM_FALLBACK and PAPERPOST_LLM_DEADLINE are checked as they are read")
    func fallbackSettings() async throws {
        try await withTemporaryDirectory { directory in
            let bad = try await CommandLineRunner(directory: directory, environment: ["PAPERPOST_LLM_FALLBACK": "maybe"]).run("curate")
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("PAPERPOST_LLM_FALLBACK: 'maybe' is not heuristic or none"))
            let deadline = try await CommandLineRunner(directory: directory, environment: ["PAPERPOST_LLM_DEADLINE": "0"]).run("curate")
            #expect(deadline.status == 1)
            #expect(deadline.stderr.contains("PAPERPOST_LLM_DEADLINE"))
        }
    }
}
