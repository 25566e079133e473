import ArxivSource
import Foundation
import PaperPostCore
import Testing

@Suite("The arXiv announcement feed")
struct AnnouncementFeedTests {
    let feedName = "cs.AI-2025-08-20.atom"

    func feed() throws -> AnnouncementFeed {
        try AnnouncementFeed.parse(try Fixture.data(feedName))
    }

    @Test("The cs.AI feed of 2025-08-20 has its seven entries in document order with their announce types")
    func entriesAndTypes() throws {
        let feed = try feed()
        #expect(feed.entries.count == 7)
        #expect(feed.entries.map(\.paper.id) == [
            "2508.13426", "2508.13428", "2508.13429", "2508.13434", "2508.13435", "2508.14001", "2508.14002",
        ])
        #expect(feed.entries.map(\.announceType) == [.cross, .cross, .cross, .cross, .cross, .new, .new])
        #expect(feed.entries.allSatisfy { $0.paper.version == 1 && !$0.paper.enriched })
    }

    @Test("The feed's own updated time is read with its microseconds, and it has no skip days")
    func feedHeader() throws {
        let feed = try feed()
        let updated = try #require(feed.updated)
        // <updated>2025-08-20T04:00:19.866337+00:00</updated>
        #expect(abs(updated.timeIntervalSince(utc(2025, 8, 20, 4, 0, 19)) - 0.866337) < 0.000_01)
        #expect(feed.skipDays == [])
        #expect(feed.categories == ["cs.AI"])
    }

    @Test("The first entry is read field by field, with the summary's announcement prefix gone")
    func firstEntry() throws {
        let paper = try #require(try feed().entries.first).paper
        #expect(paper.id == "2508.13426")
        #expect(paper.version == 1)
        #expect(paper.title
            == "ALIGN: Word Association Learning for Cross-Cultural Generalization in Large Language Models")
        #expect(paper.authors == ["Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang"])
        #expect(paper.categories == ["cs.CL", "cs.AI"])
        #expect(paper.primaryCategory == "cs.CL")
        #expect(paper.abstract.hasPrefix(
            "As large language models (LLMs) increasingly mediate cross-cultural communication, their behavior"))
        #expect(paper.abstract.hasSuffix("in improving cultural alignment in AI models."))
        #expect(!paper.abstract.contains("Announce Type"))
        #expect(!paper.abstract.contains("\n"))
        // <published>2025-08-20T00:00:00-04:00</published>: the announcement day, US Eastern midnight.
        #expect(paper.published == utc(2025, 8, 20, 4))
        let updated = try #require(paper.updated)
        #expect(abs(updated.timeIntervalSince(utc(2025, 8, 20, 4, 0, 19)) - 0.899254) < 0.000_01)
        #expect(paper.comment == nil && paper.journalRef == nil && paper.doi == nil)
    }

    @Test("Three categories stay in the feed's order, the first being the primary")
    func categoriesInOrder() throws {
        let paper = try feed().entries[1].paper
        #expect(paper.title == "Mitigating Easy Option Bias in Multiple-Choice Question Answering")
        #expect(paper.authors == ["Hao Zhang", "Chen Li", "Basura Fernando"])
        #expect(paper.categories == ["cs.CV", "cs.AI", "cs.MM"])
    }

    @Test("A TeX accent in an author's name is kept as written and does not split the name")
    func texAccentInAuthor() throws {
        let paper = try feed().entries[2].paper
        #expect(paper.authors == [#"Paulo Andr\'e Lima de Castro"#])
        #expect(paper.categories == ["q-fin.CP", "cs.AI"])
        // This abstract really ends without a full stop.
        #expect(paper.abstract.hasSuffix("AI-based Value Investing framework in the future"))
    }

    @Test("Seven comma-separated authors come out in order, and LaTeX in the abstract is left alone")
    func sevenAuthorsAndLatex() throws {
        let paper = try feed().entries[3].paper
        #expect(paper.title == "EventTSF: Event-Aware Non-Stationary Time Series Forecasting")
        #expect(paper.authors == [
            "Yunfeng Ge", "Ming Jin", "Yiji Zhao", "Hongyan Li", "Bo Du", "Chang Xu", "Shirui Pan",
        ])
        #expect(paper.abstract.hasSuffix(
            #"10.7% higher forecasting accuracy and $1.13\times$ faster training efficiency."#))
    }

    @Test("The prefix is removed whether or not the announce type is followed by a space")
    func prefixWithoutTrailingSpace() throws {
        let entries = try feed().entries
        #expect(entries[4].paper.abstract == "Spectral graph embedding methods are widely used.")
        #expect(entries[4].paper.authors == ["Some Author"])
        #expect(entries[5].paper.abstract == "We propose a neural architecture search method for efficient transformers.")
        #expect(entries[5].paper.title == "Neural Architecture Search for Efficient Transformers")
        #expect(entries[5].paper.authors == ["Alice Smith", "Bob Jones"])
        #expect(entries[5].paper.categories == ["cs.AI", "cs.LG"])
        #expect(entries[6].paper.authors == ["Carol White", "Dave Brown"])
        #expect(entries[6].paper.categories == ["cs.AI", "cs.MA"])
    }

    @Test("The replace and replace-cross announce types are read")
    func replaceTypes() throws {
        let data = try Fixture.data(feedName, replacing: [
            "<arxiv:announce_type>new</arxiv:announce_type>": "<arxiv:announce_type>replace</arxiv:announce_type>",
            "<arxiv:announce_type>cross</arxiv:announce_type>":
                "<arxiv:announce_type>replace-cross</arxiv:announce_type>",
        ])
        let types = try AnnouncementFeed.parse(data).entries.map(\.announceType)
        #expect(types == [.replaceCross, .replaceCross, .replaceCross, .replaceCross, .replaceCross, .replace, .replace])
        #expect(AnnounceType.allCases.map(\.rawValue) == ["new", "cross", "replace", "replace-cross"])
    }

    @Test("An unknown announce type is an error naming it and the entry's line")
    func unknownAnnounceType() throws {
        let data = try Fixture.data(feedName, replacing: [
            "<arxiv:announce_type>cross</arxiv:announce_type>": "<arxiv:announce_type>bogus</arxiv:announce_type>",
        ])
        let error = try #require(#expect(throws: ArxivParseError.self) { try AnnouncementFeed.parse(data) })
        guard case let .invalidEntry(line, reason) = error else {
            Issue.record("expected invalidEntry, got \(error)")
            return
        }
        #expect(line == 8)
        #expect(reason.contains("'bogus'"))
        #expect(reason.contains("2508.13426"))
    }

    @Test("An entry without an id or abs link is an error pointing at the entry")
    func entryWithoutID() throws {
        let data = try Fixture.data(feedName, replacing: [
            "<id>oai:arXiv.org:2508.13428v1</id>": "",
            #"<link href="https://arxiv.org/abs/2508.13428" rel="alternate" type="text/html"/>"#: "",
        ])
        #expect(throws: ArxivParseError.invalidEntry(
            line: 22, reason: "an entry without a usable id: it has neither <id> nor an abs link")
        ) {
            try AnnouncementFeed.parse(data)
        }
    }

    @Test("The version comes from the abs link when the entry id has none")
    func versionFromLink() throws {
        let data = try Fixture.data(feedName, replacing: [
            "<id>oai:arXiv.org:2508.13426v1</id>": "<id>oai:arXiv.org:2508.13426</id>",
            #"<link href="https://arxiv.org/abs/2508.13426" "#: #"<link href="https://arxiv.org/abs/2508.13426v3" "#,
        ])
        let paper = try AnnouncementFeed.parse(data).entries[0].paper
        #expect(paper.id == "2508.13426")
        #expect(paper.version == 3)
    }

    @Test("Skip days are read when the feed has them")
    func skipDays() throws {
        let data = try Fixture.data(feedName, replacing: [
            "<subtitle>": "<skipDays><day>Saturday</day><day>Sunday</day></skipDays><subtitle>",
        ])
        #expect(try AnnouncementFeed.parse(data).skipDays == ["Saturday", "Sunday"])
    }

    @Test("A feed without entries is a valid, empty announcement")
    func emptyFeed() throws {
        var text = try Fixture.text(feedName)
        let firstEntry = try #require(text.range(of: "<entry>"))
        let end = try #require(text.range(of: "</feed>"))
        text.removeSubrange(firstEntry.lowerBound..<end.lowerBound)
        let feed = try AnnouncementFeed.parse(Data(text.utf8))
        #expect(feed.entries.isEmpty)
        #expect(feed.updated != nil)
    }

    @Test("A feed cut in half is malformed XML at a line near the cut")
    func truncatedFeed() throws {
        let (data, lastLine) = try Fixture.truncated(feedName)
        let error = try #require(#expect(throws: ArxivParseError.self) { try AnnouncementFeed.parse(data) })
        guard case let .malformed(line, _, _) = error else {
            Issue.record("expected malformed, got \(error)")
            return
        }
        #expect((lastLine - 1)...lastLine ~= line)
    }

    @Test("An API response is not taken for an announcement feed")
    func apiResponseIsWrongKind() throws {
        let data = try Fixture.data("q_testing_s0_m10.atom")
        #expect(throws: ArxivParseError.notArxivDocument(
            reason: "this is an arXiv API response (it has opensearch:totalResults), not an announcement feed")
        ) {
            try AnnouncementFeed.parse(data)
        }
    }

    @Test("Another site's Atom feed is not taken for an announcement feed, with or without entries")
    func foreignAtomFeed() throws {
        let withEntries = Data("""
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
              <id>tag:github.com,2008:/swiftlang/swift/releases</id>
              <title>Release notes</title>
              <updated>2026-01-01T00:00:00Z</updated>
              <entry><id>tag:github.com,2008:Repository/1</id><title>6.3</title></entry>
            </feed>
            """.utf8)
        let error = try #require(#expect(throws: ArxivParseError.self) { try AnnouncementFeed.parse(withEntries) })
        guard case .notArxivDocument = error else {
            Issue.record("expected notArxivDocument, got \(error)")
            return
        }
        let withoutEntries = Data("""
            <feed xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:60a76c80</id><title>t</title></feed>
            """.utf8)
        #expect(throws: ArxivParseError.notArxivDocument(reason: "the feed id 'urn:uuid:60a76c80' is not an arXiv feed's")) {
            try AnnouncementFeed.parse(withoutEntries)
        }
    }

    @Test("arXiv's RSS 2.0 feed is reported as the wrong format rather than parsed as empty")
    func rssTwoIsWrongKind() throws {
        let rss = Data("""
            <?xml version='1.0' encoding='UTF-8'?>
            <rss xmlns:arxiv="http://arxiv.org/schemas/atom" version="2.0">
              <channel><title>cs.AI updates on arXiv.org</title>
                <skipDays><day>Saturday</day><day>Sunday</day></skipDays>
              </channel>
            </rss>
            """.utf8)
        #expect(throws: ArxivParseError.notArxivDocument(
            reason: "this is an RSS 2.0 document (<rss>), expected an Atom <feed>")
        ) {
            try AnnouncementFeed.parse(rss)
        }
    }
}
