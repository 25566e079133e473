@testable import ArxivSource
import Foundation
import Testing

@Suite("Identifiers, dates and author lists")
struct InternalsTests {
    @Test("Every spelling of an arXiv id splits into id and version", arguments: [
        ("oai:arXiv.org:2508.13143v1", "2508.13143", 1),
        ("http://arxiv.org/abs/2202.12139v1", "2202.12139", 1),
        ("https://arxiv.org/abs/2403.16981v2", "2403.16981", 2),
        ("http://arxiv.org/abs/astro-ph/0601001v1", "astro-ph/0601001", 1),
        ("quant-ph/0201082v1", "quant-ph/0201082", 1),
        ("math.AG/0601001v12", "math.AG/0601001", 12),
        ("arXiv:0704.0001v3", "0704.0001", 3),
        ("  https://export.arxiv.org/abs/2104.12255v1\n", "2104.12255", 1),
    ])
    func identifierWithVersion(text: String, id: String, version: Int) throws {
        let identifier = try #require(ArxivIdentifier(text))
        #expect(identifier.id == id)
        #expect(identifier.version == version)
    }

    @Test("An id without a version, as in the feed's abs link, has a nil version")
    func identifierWithoutVersion() throws {
        let identifier = try #require(ArxivIdentifier("https://arxiv.org/abs/2508.13426"))
        #expect(identifier.id == "2508.13426")
        #expect(identifier.version == nil)
        #expect(ArxivIdentifier("astro-ph/0601001")?.version == nil)
    }

    @Test("Text that is not an arXiv id is rejected", arguments: [
        "", "abc", "https://arxiv.org/api/errors#incorrect_id_format_for_abc", "https://arxiv.org/api/UYD++GGrMRB",
        "2508.131", "2508.131432", "2508.13143v0", "2508.13143v", "25081.3143", "Astro-ph/0601001",
        "astro-ph/060100", "math.ag/0601001", "https://example.com/abs/x",
    ])
    func notAnIdentifier(text: String) {
        #expect(ArxivIdentifier(text) == nil)
    }

    @Test("arXiv's timestamps are read with their offsets and fractions")
    func dates() throws {
        #expect(ArxivDate.parse("2026-04-12T22:09:26Z") == utc(2026, 4, 12, 22, 9, 26))
        #expect(ArxivDate.parse("2025-08-20T00:00:00-04:00") == utc(2025, 8, 20, 4))
        #expect(ArxivDate.parse("2025-08-20T05:30:00+0530") == utc(2025, 8, 20))
        #expect(ArxivDate.parse("2000-02-29T12:00:00Z") == utc(2000, 2, 29, 12))
        #expect(ArxivDate.parse("1991-08-14T00:00:00Z") == utc(1991, 8, 14))
        let fractional = try #require(ArxivDate.parse("2025-08-20T04:00:19.866337+00:00"))
        #expect(abs(fractional.timeIntervalSince(utc(2025, 8, 20, 4, 0, 19)) - 0.866337) < 0.000_01)
    }

    @Test("Malformed timestamps are rejected", arguments: [
        "", "2026-04-12", "2026-04-12T22:09Z", "2026-04-12T22:09:26", "2026-13-01T00:00:00Z",
        "2025-02-29T00:00:00Z", "2026-04-12T24:00:00Z", "2026-04-12T22:09:26.Z", "2026-04-12T22:09:26Z junk",
        "Wed, 20 Aug 2025 00:00:00 -0400",
    ])
    func badDates(text: String) {
        #expect(ArxivDate.parse(text) == nil)
    }

    @Test("White space runs become one space, everything else is kept")
    func whitespace() {
        #expect("  a\n   b\t\tc \r\n".normalizingWhitespace() == "a b c")
        #expect(#"$\alpha$~and  \emph{x}"#.normalizingWhitespace() == #"$\alpha$~and \emph{x}"#)
        #expect("\n \t".nonBlankNormalized() == nil)
        #expect("Dirk WÃ¼bben".normalizingWhitespace() == "Dirk WÃ¼bben")
    }

    @Test("An author list splits into names without cutting any name apart", arguments: [
        ("Chunhua Liu, Kabir Manandhar Shrestha, Sukai Huang", ["Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang"]),
        (#"Paulo Andr\'e Lima de Castro"#, [#"Paulo Andr\'e Lima de Castro"#]),
        ("Alice Smith, Bob Jones and Carol White", ["Alice Smith", "Bob Jones", "Carol White"]),
        ("Alice Smith, Bob Jones, and Carol White", ["Alice Smith", "Bob Jones", "Carol White"]),
        ("Alice Smith and Bob Jones", ["Alice Smith", "Bob Jones"]),
        ("Sandy Anand, Alexander Andersen", ["Sandy Anand", "Alexander Andersen"]),
        ("Martin Luther King, Jr., Ann Smith", ["Martin Luther King, Jr.", "Ann Smith"]),
        ("A. Author (MIT, Cambridge), B. Author", ["A. Author (MIT, Cambridge)", "B. Author"]),
        (#"J. M{\"u}ller, K. {van der Berg, Jr}"#, [#"J. M{\"u}ller"#, "K. {van der Berg, Jr}"]),
        ("LIGO and Virgo Collaboration, Jane Doe", ["LIGO and Virgo Collaboration", "Jane Doe"]),
        ("  Yunfeng Ge,\n   Ming Jin , ", ["Yunfeng Ge", "Ming Jin"]),
        ("", []),
    ])
    func creators(list: String, names: [String]) {
        #expect(CreatorList.split(list) == names)
    }

    @Test("The summary's announcement prefix is removed only when it has arXiv's shape")
    func announcementPrefix() {
        #expect(AnnouncementFeed.abstract(fromSummary: "arXiv:2508.13143v1 Announce Type: new Abstract: We study X.")
            == "We study X.")
        #expect(AnnouncementFeed.abstract(fromSummary: "arXiv:2508.13143v1 Announce Type: replace-cross Abstract:")
            == "")
        #expect(AnnouncementFeed.abstract(fromSummary: "We study X. Abstract: none.") == "We study X. Abstract: none.")
        #expect(AnnouncementFeed.abstract(fromSummary: "arXiv:1 Announce Type: new and odd Abstract: y")
            == "arXiv:1 Announce Type: new and odd Abstract: y")
    }
}
