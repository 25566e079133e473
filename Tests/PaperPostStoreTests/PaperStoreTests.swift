import Foundation
import PaperPostCore
@testable import PaperPostStore
import TestSupport
import Testing

@Suite("Paper store")
struct PaperStoreTests {
    let day = try! Day(parsing: "2026-02-20")

    func paper(_ id: String, version: Int = 1, categories: [String] = ["cs.AI"], enriched: Bool = false, title: String = "A title") -> AnnouncedPaper {
        AnnouncedPaper(
            paper: Paper(id: id, version: version, title: title, abstract: "An abstract.", authors: ["A. Author", "B. Author"],
                         categories: categories, enriched: enriched),
            announceType: categories.first == "cs.AI" ? .new : .cross)
    }

    func withPaperStore(_ body: (PaperStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            try await body(PaperStore(database: store.database))
        }
    }

    @Test("a cross-listed paper is stored once with all its categories and counted in each category")
    func crossListedOnce() async throws {
        try await withPaperStore { store in
            let tally = try await store.record(
                day: day, categories: ["cs.AI", "cs.LG"],
                papers: [paper("2602.00001", categories: ["cs.LG", "cs.AI"]), paper("2602.00002")], source: "test")
            #expect(tally.total == .init(new: 2, updated: 0, skipped: 0))
            #expect(tally.byCategory["cs.AI"] == .init(new: 2, updated: 0, skipped: 0))
            #expect(tally.byCategory["cs.LG"] == .init(new: 1, updated: 0, skipped: 0))
            let stored = try await store.papers(announcedOn: day)
            #expect(stored.map(\.paper.id) == ["2602.00001", "2602.00002"])
            #expect(stored[0].paper.categories == ["cs.LG", "cs.AI"])
            #expect(stored[0].paper.authors == ["A. Author", "B. Author"])
            #expect(try await store.papers(announcedOn: day, category: "cs.LG").map(\.paper.id) == ["2602.00001"])
        }
    }

    @Test("a newer version or API details update the metadata; the same data again is skipped")
    func versionsAndEnrichment() async throws {
        try await withPaperStore { store in
            _ = try await store.record(day: day, categories: ["cs.AI"], papers: [paper("2602.00001", title: "Old")], source: "test")
            var tally = try await store.record(day: day, categories: ["cs.AI"], papers: [paper("2602.00001", title: "Old")], source: "test")
            #expect(tally.total == .init(new: 0, updated: 0, skipped: 1))
            #expect(tally.dayWasKnown)

            tally = try await store.record(day: day, categories: ["cs.AI"], papers: [paper("2602.00001", enriched: true, title: "Enriched")], source: "test")
            #expect(tally.total.updated == 1)
            let next = try Day(parsing: "2026-02-23")
            tally = try await store.record(day: next, categories: ["cs.AI"], papers: [paper("2602.00001", version: 2, title: "New")], source: "test")
            #expect(tally.total.updated == 1)
            tally = try await store.record(day: next, categories: ["cs.AI"], papers: [paper("2602.00001", version: 1, enriched: true, title: "Stale")], source: "test")
            #expect(tally.total.skipped == 1)

            let stored = try await store.papers(announcedOn: nil)
            #expect(stored.count == 1)
            #expect(stored[0].paper.version == 2)
            #expect(stored[0].paper.title == "New")
            #expect(try await store.announcement(on: day)?.paperCount == 1)
            #expect(try await store.announcement(on: next)?.paperCount == 1)
        }
    }

    @Test("an empty announcement is recorded as an empty day")
    func emptyDay() async throws {
        try await withPaperStore { store in
            _ = try await store.record(day: day, categories: ["cs.AI", "cs.CL"], papers: [], source: "test")
            let announcement = try #require(try await store.announcement(on: day))
            #expect(announcement.isEmpty)
            #expect(announcement.categories == ["cs.AI", "cs.CL"])
        }
    }
}
