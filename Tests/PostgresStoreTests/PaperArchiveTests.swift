import Foundation
import PaperPostCore
import PaperPostStore
import PostgresStore
import TestSupport
import Testing

/// The papers a fetch records, on SQLite and on PostgreSQL.
@Suite("the paper archive, on SQLite and on PostgreSQL")
struct PaperArchiveTests {
    func withArchive(_ backend: Backend, _ body: (any PaperArchive) async throws -> Void) async throws {
        switch backend {
        case .sqlite:
            try await withTemporaryDirectory { directory in
                try await body(PaperStore(database: try PaperPostDatabase.open(path: directory.appendingPathComponent("p.sqlite").path)))
            }
        case .postgres:
            try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: try await TestPostgres.newDatabase())) { database in
                try await body(PostgresPaperStore(database: database))
            }
        }
    }

    func paper(_ id: String, version: Int = 1, enriched: Bool = false, categories: [String] = ["cs.AI"]) -> AnnouncedPaper {
        AnnouncedPaper(
            paper: Paper(
                id: id, version: version, title: "Title of \(id) v\(version)", abstract: "An abstract.", authors: ["A. Author", "B. Büchner"],
                categories: categories, published: Date(timeIntervalSince1970: 1_755_600_000), comment: enriched ? "12 pages" : nil,
                enriched: enriched),
            announceType: version > 1 ? .replace : .new)
    }

    @Test("new, updated by a newer version or the API's details, skipped otherwise; a day recorded again adds its categories and papers", arguments: Backend.allCases)
    func record(backend: Backend) async throws {
        try await withArchive(backend) { archive in
            let day = try Day(parsing: "2025-08-20"), next = try Day(parsing: "2025-08-21")
            let first = try await archive.record(
                day: day, categories: ["cs.AI"], papers: [paper("2508.00001"), paper("2508.00002", categories: ["cs.CL", "cs.AI"])], source: "feed")
            #expect(first.total == .init(new: 2) && !first.dayWasKnown)
            #expect(first.byCategory == ["cs.AI": .init(new: 2)])

            let again = try await archive.record(
                day: day, categories: ["cs.CL"],
                papers: [paper("2508.00002", categories: ["cs.CL", "cs.AI"]), paper("2508.00003", categories: ["cs.CL"])], source: "feed")
            #expect(again.dayWasKnown && again.total == .init(new: 1, skipped: 1))
            let announcement = try #require(try await archive.announcement(on: day))
            #expect(announcement.categories == ["cs.AI", "cs.CL"] && announcement.paperCount == 3 && announcement.source == "feed")

            let later = try await archive.record(
                day: next, categories: ["cs.AI"],
                papers: [paper("2508.00001", version: 2), paper("2508.00002", enriched: true, categories: ["cs.CL", "cs.AI"]), paper("2508.00003", categories: ["cs.CL"])],
                source: "api")
            #expect(later.total == .init(updated: 2, skipped: 1))
            #expect(try await archive.announcements(limit: 5).map(\.day) == [next, day])
            #expect(try await archive.latestDay() == next)

            let stored = try await archive.papers(announcedOn: day, category: nil)
            #expect(stored.map(\.paper.id) == ["2508.00001", "2508.00002", "2508.00003"])
            #expect(stored[0].paper.version == 2 && stored[0].paper.title == "Title of 2508.00001 v2" && stored[0].announceType == .new)
            #expect(stored[1].paper.enriched && stored[1].paper.comment == "12 pages" && stored[1].paper.categories == ["cs.CL", "cs.AI"])
            #expect(stored[1].paper.authors == ["A. Author", "B. Büchner"] && stored[1].paper.published == Date(timeIntervalSince1970: 1_755_600_000))
            let all = try await archive.papers(announcedOn: nil, category: "cs.CL")
            #expect(all.map(\.paper.id) == ["2508.00002", "2508.00003"])
            #expect(try await archive.papers(announcedOn: next, category: nil).first?.announceType == .replace, "the day's own announce type")
            #expect(try await archive.papers(announcedOn: nil, category: nil).first?.announceType == .replace, "the latest day's")
            #expect(try await archive.announcement(on: Day(parsing: "2025-08-22")) == nil)
        }
    }
}
