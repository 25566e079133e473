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
        (["fetch", "--feed", "deep.atom"], "deep.atom: the XML nests elements more than 256 deep at line 1"),
        (["fetch", "--feed", "future.atom"], "future.atom: the announcement feed is dated 9999-08-20T04:00:00Z, in the future"),
        (["fetch", "--details", "x.atom"], "--details goes with --feed"),
        (["fetch", "--max", "0"], "--max must be at least 1"),
        (["fetch", "--date", "2025-13-01"], "2025-13-01"),
        (["papers", "list", "--category", "cs.XX"], "unknown arXiv category 'cs.XX'"),
    ])
    func badInput(arguments: [String], message: String) async throws {
        try await withTemporaryDirectory { directory in
            try Data("this is not xml".utf8).write(to: directory.appendingPathComponent("garbage.atom"))
            let deep = #"<feed xmlns="http://www.w3.org/2005/Atom">"# + String(repeating: "<a>", count: 50_000)
                + String(repeating: "</a>", count: 50_000) + "</feed>"
            try Data(deep.utf8).write(to: directory.appendingPathComponent("deep.atom"))
            let future = try String(contentsOf: fixture("cs.AI-2025-08-20.atom"), encoding: .utf8).replacingOccurrences(
                of: "<updated>2025-08-20T04:00:19.866337+00:00</updated>", with: "<updated>9999-08-20T04:00:00+00:00</updated>")
            try Data(future.utf8).write(to: directory.appendingPathComponent("future.atom"))
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

    @Test("a response over PAPERPOST_HTTP_MAX_BYTES is a failure (exit 2) naming the URL, the limit and the setting")
    func responseTooLarge() async throws {
        let server = try await LocalHTTPServer(routes: ["/atom/cs.AI": [FixtureResponse(body: .file(try fixture("cs.AI-2025-08-20.atom")))]])
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = CommandLineRunner(directory: directory, environment: [
                "PAPERPOST_ARXIV_RSS_URL": server.url("/atom"), "PAPERPOST_ARXIV_DELAY": "0", "PAPERPOST_HTTP_MAX_BYTES": "2048",
            ])
            let result = try await cli.run("fetch", "--categories", "cs.AI")
            #expect(result.status == 2)
            #expect(result.stderr.contains("arXiv's answer was refused, nothing was recorded"))
            #expect(result.stderr.contains(server.url("/atom/cs.AI")))
            #expect(result.stderr.contains("larger than the limit of 2048 bytes"))
            #expect(result.stderr.contains("PAPERPOST_HTTP_MAX_BYTES"))

            let unlimited = CommandLineRunner(directory: directory, environment: [
                "PAPERPOST_ARXIV_RSS_URL": server.url("/atom"), "PAPERPOST_ARXIV_DELAY": "0",
                "PAPERPOST_ARXIV_API_URL": server.url("/api/query"), "PAPERPOST_HTTP_MAX_BYTES": "100000",
            ])
            let fetched = try await unlimited.run("fetch", "--categories", "cs.AI")
            #expect(fetched.stdout.hasPrefix("announcement of 2025-08-20: 7 new"))
        }
    }
}
