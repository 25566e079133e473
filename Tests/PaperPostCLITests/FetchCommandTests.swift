import Foundation
import TestSupport
import Testing

@Suite("paperpost fetch and papers")
struct FetchCommandTests {
    func fixture(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    }

    @Test("fetch --feed stores a saved feed under its own day and categories; a second run does nothing")
    func fetchFromFile() async throws {
        try await withTemporaryDirectory { directory in
            let cli = CommandLineRunner(directory: directory)
            let feed = try fixture("cs.AI-2025-08-20.atom").path
            var result = try await cli.run("fetch", "--feed", feed)
            #expect(result.status == 0)
            #expect(result.stdout.hasPrefix("announcement of 2025-08-20: 7 new, 0 updated, 0 skipped\nCATEGORY  NEW  UPDATED  SKIPPED\ncs.AI     7    0        0\n"))
            #expect(result.stderr.isEmpty)

            result = try await cli.run("fetch", "--feed", feed)
            #expect(result.status == 0)
            #expect(result.stdout == "the announcement of 2025-08-20 (cs.AI) was already fetched; nothing to do\n")

            result = try await cli.run("papers", "list", "--date", "2025-08-20", "--category", "cs.LG", "--format", "json")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
            #expect(rows.map { $0["id"] as? String } == ["2508.13434", "2508.13435", "2508.14001"])
            #expect(rows[0]["enriched"] as? Bool == false)
            #expect(rows[0]["announce_type"] as? String == "cross")
            #expect(rows[0]["abs_url"] as? String == "https://arxiv.org/abs/2508.13434v1")
        }
    }

    @Test("bad documents and arguments exit 1 naming the file, and record nothing", arguments: [
        (["fetch", "--feed", "missing.atom"], "cannot read 'missing.atom'"),
        (["fetch", "--feed", "garbage.atom"], "garbage.atom: malformed XML at line 1"),
        (["fetch", "--details", "x.atom"], "--details goes with --feed"),
        (["fetch", "--max", "0"], "--max must be at least 1"),
        (["fetch", "--date", "2025-13-01"], "2025-13-01"),
        (["papers", "list", "--category", "cs.XX"], "unknown arXiv category 'cs.XX'"),
    ])
    func badInput(arguments: [String], message: String) async throws {
        try await withTemporaryDirectory { directory in
            try Data("this is not xml".utf8).write(to: directory.appendingPathComponent("garbage.atom"))
            let cli = CommandLineRunner(directory: directory)
            let result = try await cli.run(arguments)
            #expect(result.status == 1)
            #expect(result.stderr.contains(message))
            #expect(try await cli.run("papers", "list", "--format", "csv").stdout.split(separator: "\r\n").count <= 1)
        }
    }

    @Test("an unreachable arXiv is a failure (exit 2) and no empty day is recorded")
    func unreachable() async throws {
        try await withTemporaryDirectory { directory in
            let cli = CommandLineRunner(directory: directory, environment: [
                "PAPERPOST_ARXIV_RSS_URL": "http://127.0.0.1:9/atom", "PAPERPOST_ARXIV_DELAY": "0",
            ])
            let result = try await cli.run("fetch", "--categories", "cs.AI")
            #expect(result.status == 2)
            #expect(result.stderr.contains("arXiv could not be reached, nothing was recorded"))
            #expect(result.stderr.contains("http://127.0.0.1:9/atom/cs.AI"))
        }
    }
}
