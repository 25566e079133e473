import Curation
import Foundation
import GRDB
import HummingbirdTesting
import PaperPostCore
@testable import PaperPostStore
import TestSupport
import Testing

/// A past edition never changes until its day is curated again, so its page and the feed are
/// rendered once and kept against the time their digests were made.
@Suite("The web app: past editions and the feed are rendered once")
struct ArchiveCacheTests {
    @Test("a page is kept until its day is curated again, in each language; the feed likewise")
    func keptUntilCuratedAgain() async throws {
        try await withWebApp { world, client in
            var browser = Browser(client)
            let first = try await browser.get("/archive/2026-02-20?lang=en")
            #expect(first.status == .ok && first.body.contains("Paper 0"))
            let chinese = try await browser.get("/archive/2026-02-20?lang=zh")
            #expect(chinese.body != first.body, "each language has its own page")
            #expect(try await browser.get("/feed.xml").body.contains("Paper 0"))

            // A change underneath that is not a new curation: the kept pages are what is served.
            try await (try #require(world.sqlite)).writer.write { db in
                try db.execute(sql: "UPDATE paper SET title = 'A retitled paper' WHERE id = '2602.00000'")
            }
            #expect(try await browser.get("/archive/2026-02-20?lang=en").body == first.body, "rendered once, served as kept")
            #expect(try await browser.get("/feed.xml").body.contains("Paper 0"))

            // Curating the day again (here, as another process would) makes the pages anew.
            _ = try await Curation(settings: world.settings, database: (try #require(world.sqlite))).run(CurationOptions(day: WebWorld.day))
            let again = try await browser.get("/archive/2026-02-20?lang=en")
            #expect(again.body.contains("A retitled paper") && !again.body.contains("Paper 0 |"))
            #expect(try await browser.get("/archive/2026-02-20?lang=zh").body.contains("A retitled paper"))
            #expect(try await browser.get("/feed.xml").body.contains("A retitled paper"))
            #expect(try await browser.get("/archive/2026-02-21?lang=en").status == .notFound)
        }
    }
}
