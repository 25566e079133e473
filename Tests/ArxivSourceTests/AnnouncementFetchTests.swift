import ArxivSource
import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// The whole fetch against a real HTTP server on 127.0.0.1 serving recorded arXiv documents.
@Suite("Fetching an announcement over HTTP")
struct AnnouncementFetchTests {
    static let feedPath = "/atom/cs.AI"
    static let apiPath = "/api/query"
    static let friday = try! Day(parsing: "2025-08-20")

    /// The real cs.AI feed, with two entries given ids that the recorded API documents know.
    static func feed(replacing extra: KeyValuePairs<String, String> = [:]) throws -> Data {
        var text = String(decoding: try Fixture.data("cs.AI-2025-08-20.atom", replacing: [
            "2508.13426v1": "1707.08567v1", "abs/2508.13426": "abs/1707.08567",
            "2508.13428v1": "0808.05394v1", "abs/2508.13428": "abs/0808.05394",
        ]), as: UTF8.self)
        for (target, replacement) in extra {
            try #require(text.contains(target))
            text = text.replacingOccurrences(of: target, with: replacement)
        }
        return Data(text.utf8)
    }

    struct Fixture2 {
        var server: LocalHTTPServer
        var fetch: AnnouncementFetch
        var papers: PaperStore
        var client: ArxivClient

        func run(day: Day? = nil, crossLists: Bool = true) async throws -> FetchReport {
            try await fetch.run(FetchRequest(day: day, categories: ["cs.AI"], includeCrossLists: crossLists), from: .arxiv(client))
        }
    }

    func withArxiv(
        feed: [FixtureResponse], api: [FixtureResponse] = [],
        delay: Duration = .milliseconds(50), maxBytes: Int = Settings().httpMaxBytes, _ body: (Fixture2) async throws -> Void
    ) async throws {
        let server = try await LocalHTTPServer(routes: api.isEmpty ? [Self.feedPath: feed] : [Self.feedPath: feed, Self.apiPath: api])
        defer { server.stop() }
        try await withTemporaryStore { store, _ in
            let settings = Settings(
                baseURL: "https://digest.example.org", arxivRSSURL: server.url("/atom"), arxivAPIURL: server.url(Self.apiPath),
                arxivDelay: delay, httpMaxBytes: maxBytes)
            let papers = PaperStore(database: store.database)
            try await body(Fixture2(
                server: server, fetch: AnnouncementFetch(papers: papers), papers: papers,
                client: ArxivClient(settings: settings, version: "9.9.9")))
        }
    }

    static func ok(_ data: Data) -> FixtureResponse { FixtureResponse(status: 200, body: .bytes(data)) }

    @Test("a real feed and real API details are stored field by field; the API's data wins, the feed's categories stay")
    func feedAndDetails() async throws {
        try await withArxiv(feed: [Self.ok(try Self.feed())], api: [Self.ok(try Fixture.data("id_0808.05394_1707.08567_s0_m100.atom"))]) { arxiv throws in
            let report = try await arxiv.run()
            #expect(report.day == Self.friday)
            #expect(report.tally.total == .init(new: 7, updated: 0, skipped: 0))
            #expect(report.notEnriched.count == 6)

            let stored = try await arxiv.papers.papers(announcedOn: Self.friday)
            let enriched = try #require(stored.first { $0.paper.id == "1707.08567" })
            #expect(enriched.paper.enriched)
            #expect(enriched.announceType == .cross)
            #expect(enriched.paper.title == "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications")
            #expect(enriched.paper.authors.first == "Kees A. Schouhamer Immink")
            #expect(enriched.paper.authors.contains("Peter H. N. de With"))
            #expect(enriched.paper.comment == "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck")
            #expect(enriched.paper.categories == ["cs.IT", "cs.CL", "cs.AI"])
            #expect(enriched.paper.published == ISO8601DateFormatter().date(from: "2017-07-27T08:18:33Z"))

            let feedOnly = try #require(stored.first { $0.paper.id == "0808.05394" })
            #expect(!feedOnly.paper.enriched)
            #expect(feedOnly.paper.title == "Mitigating Easy Option Bias in Multiple-Choice Question Answering")
            #expect(feedOnly.paper.categories.first == "cs.CV")

            let requests = try await arxiv.server.requests()
            #expect(requests.map(\.path).first == "/atom/cs.AI")
            #expect(requests.count == 2)
            #expect(requests[1].path.hasPrefix("/api/query?id_list=1707.08567,0808.05394,2508.13429"))
            #expect(requests[1].path.hasSuffix("&max_results=7"))
            #expect(requests.allSatisfy { $0.header("User-Agent") == "PaperPost/9.9.9 (+https://digest.example.org)" })
        }
    }

    @Test("requests to arXiv are at least the configured pause apart")
    func politeness() async throws {
        try await withArxiv(feed: [Self.ok(try Self.feed())], api: [Self.ok(try Fixture.data("id_1707.08567_s0_m100.atom"))], delay: .milliseconds(700)) { arxiv throws in
            _ = try await arxiv.run()
            let arrivals = try await arxiv.server.requests().map(\.arrival)
            #expect(arrivals.count == 2)
            #expect(arrivals[1] - arrivals[0] >= 0.69)
        }
    }

    @Test("503 with Retry-After is waited out, then the feed is used")
    func retryAfter() async throws {
        let busy = FixtureResponse(status: 503, headers: [("Retry-After", "1")], text: "busy")
        try await withArxiv(feed: [busy, Self.ok(try Self.feed())], api: [Self.ok(try Fixture.data("id_0000.0000_s0_m100.atom"))]) { arxiv throws in
            let report = try await arxiv.run()
            #expect(report.tally.total.new == 7)
            let arrivals = try await arxiv.server.requests().filter { $0.path == Self.feedPath }.map(\.arrival)
            #expect(arrivals.count == 2)
            #expect(arrivals[1] - arrivals[0] >= 0.95)
        }
    }

    @Test("a 406 that carries a valid feed is used at once")
    func notAcceptableWithFeed() async throws {
        try await withArxiv(feed: [FixtureResponse(status: 406, body: .bytes(try Self.feed()))], api: [Self.ok(try Fixture.data("id_0000.0000_s0_m100.atom"))]) { arxiv throws in
            let report = try await arxiv.run()
            #expect(report.tally.total.new == 7)
            #expect(try await arxiv.server.requests().filter { $0.path == Self.feedPath }.count == 1)
        }
    }

    @Test("a bare 406 that persists is an error naming the URL, and nothing is recorded as empty")
    func persistentNotAcceptable() async throws {
        try await withArxiv(feed: [FixtureResponse(status: 406, headers: [("Server", "arXiv-test")], text: "Not Acceptable")]) { arxiv throws in
            await #expect {
                try await arxiv.run()
            } throws: { error in
                let message = "\(error)"
                return message.hasPrefix("arXiv could not be reached, nothing was recorded")
                    && message.contains(arxiv.server.url(Self.feedPath)) && message.contains("406") && message.contains("arXiv-test")
            }
            #expect(try await arxiv.papers.announcements().isEmpty)
            #expect(try await arxiv.server.requests().count == 4)
        }
    }

    @Test("a truncated feed is an error naming the line, and nothing is recorded")
    func truncatedFeed() async throws {
        let (half, _) = try Fixture.truncated("cs.AI-2025-08-20.atom")
        try await withArxiv(feed: [Self.ok(half)]) { arxiv throws in
            await #expect {
                try await arxiv.run()
            } throws: { error in
                "\(error)".contains("malformed XML at line")
            }
            #expect(try await arxiv.papers.announcements().isEmpty)
        }
    }

    @Test("when the API refuses, papers keep the feed's data, are marked not enriched, and the refusal is reported")
    func apiRefuses() async throws {
        try await withArxiv(feed: [Self.ok(try Self.feed())], api: [FixtureResponse(status: 400, body: .bytes(try Fixture.data("id_abc_s0_m100.atom")))]) { arxiv throws in
            let report = try await arxiv.run()
            #expect(report.tally.total.new == 7)
            #expect(report.notEnriched.count == 7)
            #expect(report.enrichmentProblems.count == 1)
            #expect(report.enrichmentProblems[0].contains("the arXiv API reported an error"))
        }
    }

    @Test("a weekend rerun finds the day already recorded and asks the API nothing")
    func weekendRerun() async throws {
        try await withArxiv(feed: [Self.ok(try Self.feed())], api: [Self.ok(try Fixture.data("id_0000.0000_s0_m100.atom"))]) { arxiv throws in
            _ = try await arxiv.run(day: Self.friday)
            let saturday = try await arxiv.run(day: Day(year: 2025, month: 8, day: 23))
            #expect(saturday.alreadyRecorded)
            #expect(saturday.day == Self.friday)
            #expect(try await arxiv.server.requests().filter { $0.path.hasPrefix(Self.apiPath) }.count == 1)
            #expect(try await arxiv.papers.announcements().map(\.day) == [Self.friday])
        }
    }

    @Test("an announcement without entries is recorded as an empty day, not an error")
    func emptyDay() async throws {
        let text = String(decoding: try Self.feed(), as: UTF8.self)
        let start = try #require(text.range(of: "<entry>"))
        let end = try #require(text.range(of: "</entry>", options: .backwards))
        let empty = Data((String(text[..<start.lowerBound]) + String(text[end.upperBound...])).utf8)
        try await withArxiv(feed: [Self.ok(empty)]) { arxiv throws in
            let report = try await arxiv.run()
            #expect(report.isEmptyDay)
            let announcement = try #require(try await arxiv.papers.announcement(on: Self.friday))
            #expect(announcement.isEmpty)
            #expect(try await arxiv.server.requests().count == 1)
        }
    }

    @Test("asking for a day before the one the feed holds is an error that says how to get it")
    func earlierDay() async throws {
        try await withArxiv(feed: [Self.ok(try Self.feed())]) { arxiv throws in
            await #expect {
                try await arxiv.run(day: Day(year: 2025, month: 8, day: 19))
            } throws: { error in
                "\(error)".contains("arXiv's feed holds the announcement of 2025-08-20, not of 2025-08-19")
            }
        }
    }

    @Test("a newer version in a later announcement updates the stored paper; cross-lists can be left out")
    func newerVersion() async throws {
        let monday = try Self.feed(replacing: [
            "2508.14001v1": "2508.14001v2", "<updated>2025-08-20T04:00:19.866337+00:00</updated>": "<updated>2025-08-25T04:00:00+00:00</updated>",
        ])
        try await withArxiv(feed: [Self.ok(try Self.feed()), Self.ok(monday)], api: [Self.ok(try Fixture.data("id_0000.0000_s0_m100.atom"))]) { arxiv throws in
            _ = try await arxiv.run()
            let second = try await arxiv.run(crossLists: false)
            let monday = try Day(parsing: "2025-08-25")
            #expect(second.day == monday)
            #expect(second.droppedCrossLists == 5)
            #expect(second.tally.total == .init(new: 0, updated: 1, skipped: 1))
            let paper = try #require(try await arxiv.papers.papers(announcedOn: nil).first { $0.paper.id == "2508.14001" })
            #expect(paper.paper.version == 2)
        }
    }

    @Test("an endless feed is stopped at the configured limit, not retried, and nothing is recorded")
    func endlessFeed() async throws {
        try await withArxiv(feed: [FixtureResponse(endless: true)], maxBytes: 1_048_576) { arxiv throws in
            await #expect {
                try await arxiv.run()
            } throws: { error in
                let message = "\(error)"
                return message.hasPrefix("arXiv's answer was refused, nothing was recorded")
                    && message.contains(arxiv.server.url(Self.feedPath)) && message.contains("limit of 1048576 bytes")
                    && message.contains("PAPERPOST_HTTP_MAX_BYTES")
            }
            #expect(try await arxiv.server.requests().count == 1)
            #expect(try await arxiv.papers.announcements().isEmpty)
        }
    }

    @Test("a gzip-bomb feed is refused at the default limit and nothing is recorded")
    func gzipBombFeed() async throws {
        let bomb = FixtureResponse(headers: [("Content-Encoding", "gzip")], body: .gzipOfZeros(1 << 30))
        try await withArxiv(feed: [bomb]) { arxiv throws in
            await #expect {
                try await arxiv.run()
            } throws: { error in
                "\(error)".contains("larger than the limit of 67108864 bytes (64 MiB)")
            }
            #expect(try await arxiv.papers.announcements().isEmpty)
        }
    }

    @Test("a feed without a date is refused naming its URL, not recorded under today")
    func undatedFeed() async throws {
        let text = String(decoding: try Self.feed(replacing: ["<updated>2025-08-20T04:00:19.866337+00:00</updated>": ""]), as: UTF8.self)
        let start = try #require(text.range(of: "<entry>"))
        let end = try #require(text.range(of: "</entry>", options: .backwards))
        let undated = Data((String(text[..<start.lowerBound]) + String(text[end.upperBound...])).utf8)
        try await withArxiv(feed: [Self.ok(undated)]) { arxiv throws in
            await #expect {
                try await arxiv.run()
            } throws: { error in
                let message = "\(error)"
                return message.hasPrefix(arxiv.server.url(Self.feedPath) + ": the announcement feed has no date")
                    && message.hasSuffix("nothing was recorded")
            }
            #expect(try await arxiv.papers.announcements().isEmpty)
        }
    }

    @Test("a feed dated in the year 9999 is refused naming the date and URL, so it cannot stay the latest")
    func futureFeed() async throws {
        let future = try Self.feed(replacing: [
            "<updated>2025-08-20T04:00:19.866337+00:00</updated>": "<updated>9999-12-31T00:00:00+00:00</updated>",
        ])
        try await withArxiv(feed: [Self.ok(future)]) { arxiv throws in
            await #expect {
                try await arxiv.run()
            } throws: { error in
                let message = "\(error)"
                return message.hasPrefix(arxiv.server.url(Self.feedPath) + ": the announcement feed is dated 9999-12-31T00:00:00Z")
            }
            #expect(try await arxiv.papers.announcements().isEmpty)
            #expect(try await arxiv.server.requests().count == 1)
        }
    }
}
