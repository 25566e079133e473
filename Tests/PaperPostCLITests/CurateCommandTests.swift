import Foundation
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
            let summaries = try #require(entries[0]["summaries"] as? [String: [String: String]])
            #expect(summaries["zh"]?["source"] == "heuristic")
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
}
