import ArxivSource
import Foundation
import PaperPostCore
import Testing

/// Documents no arXiv server would send, but a broken mirror or a hostile one could: absurd nesting,
/// and feeds whose date is missing or impossible.
@Suite("Hostile and undated documents")
struct HostileDocumentTests {
    /// An Atom feed whose `<id>` is followed by `depth` nested elements, one start tag per line, so
    /// the element at depth d (the root is depth 1) starts on line d.
    static func nested(depth: Int) -> Data {
        var text = #"<feed xmlns="http://www.w3.org/2005/Atom">"# + "\n"
        text += String(repeating: "<a>\n", count: depth - 1)
        text += String(repeating: "</a>", count: depth - 1)
        text += "</feed>\n"
        return Data(text.utf8)
    }

    @Test("A feed nested 50,000 deep is refused at depth 257 with the line, instead of crashing")
    func deepFeed() {
        let data = Self.nested(depth: 50_000)
        #expect(throws: ArxivParseError.tooDeep(line: 257, maxDepth: 256)) {
            try AnnouncementFeed.parse(data)
        }
        #expect(throws: ArxivParseError.tooDeep(line: 257, maxDepth: 256)) {
            try ArxivAPIResponse.parse(data)
        }
        #expect(ArxivParseError.tooDeep(line: 257, maxDepth: 256).description
            == "the XML nests elements more than 256 deep at line 257; arXiv's documents are under 10 deep, so this is not one")
    }

    @Test("Nesting 256 deep is still parsed; the document is then judged on what it is")
    func deepestAccepted() {
        #expect(throws: ArxivParseError.notArxivDocument(reason: "the feed id '' is not an arXiv feed's")) {
            try AnnouncementFeed.parse(Self.nested(depth: 256))
        }
    }

    // MARK: The day a feed announces

    static let feedName = "cs.AI-2025-08-20.atom"
    static let feedUpdated = "<updated>2025-08-20T04:00:19.866337+00:00</updated>"
    static let august20 = try! Day(parsing: "2025-08-20")

    @Test("The feed's own updated time names the day")
    func dayFromUpdated() throws {
        let feed = try AnnouncementFeed.parse(try Fixture.data(Self.feedName))
        #expect(try feed.announcementDay(now: utc(2025, 8, 20, 12)) == Self.august20)
    }

    @Test("Without updated, the day comes from the entries' published date, which arXiv sets to the announcement day")
    func dayFromEntries() throws {
        let feed = try AnnouncementFeed.parse(try Fixture.data(Self.feedName, replacing: [Self.feedUpdated: ""]))
        #expect(feed.updated == nil)
        // Read a week later: the day is still the announcement's, not the reading's.
        #expect(try feed.announcementDay(now: utc(2025, 8, 27)) == Self.august20)
    }

    @Test("Without updated, entries published on different days leave the feed undated")
    func entriesDisagree() throws {
        var text = try Fixture.text(Self.feedName).replacingOccurrences(of: Self.feedUpdated, with: "")
        let first = try #require(text.range(of: "<published>2025-08-20T00:00:00-04:00</published>"))
        text.replaceSubrange(first, with: "<published>2025-08-19T00:00:00-04:00</published>")
        let feed = try AnnouncementFeed.parse(Data(text.utf8))
        #expect(throws: ArxivParseError.undated(
            reason: "it has no <updated>, and its entries' <published> dates fall on 2 different days (2025-08-19, 2025-08-20)")
        ) {
            try feed.announcementDay(now: utc(2025, 8, 20, 12))
        }
    }

    @Test("Without updated or entries, the feed is undated and is not taken for today's announcement")
    func undatedEmptyFeed() throws {
        var text = try Fixture.text(Self.feedName).replacingOccurrences(of: Self.feedUpdated, with: "")
        let firstEntry = try #require(text.range(of: "<entry>"))
        let end = try #require(text.range(of: "</feed>"))
        text.removeSubrange(firstEntry.lowerBound..<end.lowerBound)
        let feed = try AnnouncementFeed.parse(Data(text.utf8))
        let error = try #require(#expect(throws: ArxivParseError.self) { try feed.announcementDay() })
        #expect(error == .undated(reason: "it has no <updated> and no entries whose <published> could date it"))
        #expect(error.description.hasPrefix("the announcement feed has no date: "))
    }

    @Test("A feed dated in the year 9999 is refused, naming the date")
    func farFuture() throws {
        let feed = try AnnouncementFeed.parse(try Fixture.data(Self.feedName, replacing: [
            Self.feedUpdated: "<updated>9999-08-20T04:00:00+00:00</updated>",
        ]))
        let error = try #require(#expect(throws: ArxivParseError.self) { try feed.announcementDay() })
        guard case .dateInFuture(let date, _) = error else {
            Issue.record("expected dateInFuture, got \(error)")
            return
        }
        #expect(date == "9999-08-20T04:00:00Z")
        #expect(error.description.contains("dated 9999-08-20T04:00:00Z, in the future"))
    }

    @Test("Up to two days ahead of the clock is skew and accepted; more is refused", arguments: [
        (utc(2025, 8, 18, 4, 0, 20), true),
        (utc(2025, 8, 18, 4, 0, 19), false),
        (utc(2025, 8, 16), false),
    ])
    func nearFuture(now: Date, accepted: Bool) throws {
        let feed = try AnnouncementFeed.parse(try Fixture.data(Self.feedName))
        if accepted {
            #expect(try feed.announcementDay(now: now) == Self.august20)
        } else {
            #expect(throws: ArxivParseError.dateInFuture(
                date: "2025-08-20T04:00:19Z", now: ISO8601DateFormatter().string(from: now))
            ) {
                try feed.announcementDay(now: now)
            }
        }
    }
}
