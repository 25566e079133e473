import Foundation
import GRDB
import PaperPostCore
@testable import PaperPostStore
import TestSupport
import Testing

@Suite("Subscriber store")
struct SubscriberStoreTests {
    func new(_ email: String, status: SubscriberStatus = .active, categories: [String] = ["cs.AI"]) throws -> NewSubscriber {
        NewSubscriber(email: try EmailAddress(email), name: "Test", categories: categories, language: .en, status: status)
    }

    @Test("a new database is migrated from empty, and opening it again changes nothing")
    func migratesFromEmpty() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("nested/dir/paperpost.sqlite").path
            let first = try PaperPostDatabase.open(path: path)
            let tables = try await first.writer.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name")
            }
            #expect(tables == [
                "announcement", "announcement_paper", "bounce_event", "daily_run", "delivery", "digest", "digest_entry", "digest_reason",
                "digest_summary", "inbound_message", "llm_cache", "llm_call", "paper", "paper_category", "rate_event", "send_lease", "subscriber",
                "subscriber_category", "subscriber_event", "subscriber_interest", "subscriber_taste", "subscriber_vote",
            ])
            let journal = try await first.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(journal == "wal")
            _ = try PaperPostDatabase.open(path: path)
        }
    }

    @Test("an address is unique whatever the case of its domain and local part")
    func uniqueAddress() async throws {
        try await withTemporaryStore { store, _ in
            try await store.add(new("Ada@Example.com"), source: .cli)
            await #expect {
                try await store.add(new("ada@EXAMPLE.COM"), source: .cli)
            } throws: { error in
                "\(error)".contains("already subscribed")
            }
            let found = try await store.get(try EmailAddress("ADA@example.com"))
            #expect(found.email == "Ada@Example.com")
        }
    }

    @Test("the schema refuses a status or language it does not know")
    func schemaConstraints() async throws {
        try await withTemporaryStore { store, _ in
            try await store.add(new("a@example.com"), source: .cli)
            await #expect(throws: DatabaseError.self) {
                try await store.database.writer.write { db in
                    try db.execute(sql: "UPDATE subscriber SET status = 'gone'")
                }
            }
            await #expect(throws: DatabaseError.self) {
                try await store.database.writer.write { db in
                    try db.execute(sql: "UPDATE subscriber SET language = 'fr'")
                }
            }
        }
    }

    @Test("categories are a relation, kept in the order chosen, and changes are audited")
    func categoriesAndAudit() async throws {
        try await withTemporaryStore { store, _ in
            let address = try EmailAddress("li@example.com")
            try await store.add(new("li@example.com", categories: ["cs.LG", "cs.AI"]), source: .cli)
            let updated = try await store.update(
                address, SubscriberChange(addCategories: ["cs.CL"], removeCategories: ["cs.LG"]), source: .web)
            #expect(updated.categories == ["cs.AI", "cs.CL"])
            let rows = try await store.database.writer.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM subscriber_category")
            }
            #expect(rows == 2)
            let events = try await store.events(of: updated)
            #expect(events.map(\.kind) == [.added, .categoriesChanged])
            #expect(events.map(\.source) == [.cli, .web])
            #expect(events[1].detail == "cs.LG cs.AI → cs.AI cs.CL")
        }
    }

    @Test("a change that would leave no category is refused and changes nothing")
    func noEmptyCategories() async throws {
        try await withTemporaryStore { store, _ in
            let address = try EmailAddress("li@example.com")
            try await store.add(new("li@example.com", categories: ["cs.AI"]), source: .cli)
            await #expect(throws: InputError.self) {
                try await store.update(address, SubscriberChange(removeCategories: ["cs.AI"]), source: .cli)
            }
            #expect(try await store.get(address).categories == ["cs.AI"])
        }
    }

    @Test("unsubscribing keeps the row, is recorded once, and re-adding is refused")
    func unsubscribeKeepsRow() async throws {
        try await withTemporaryStore { store, _ in
            let address = try EmailAddress("a@example.com")
            try await store.add(new("a@example.com"), source: .cli)
            #expect(try await store.unsubscribe(address, source: .link))
            #expect(try await store.unsubscribe(address, source: .link) == false)
            let subscriber = try await store.get(address)
            #expect(subscriber.status == .unsubscribed)
            #expect(subscriber.unsubscribedAt != nil)
            #expect(try await store.events(of: subscriber).filter { $0.kind == .unsubscribed }.count == 1)
            await #expect {
                try await store.add(new("a@example.com"), source: .cli)
            } throws: { error in
                "\(error)".contains("unsubscribed; it is not re-added")
            }
        }
    }

    @Test("forgetting erases the address, name, interests, votes and taste but keeps the person suppressed")
    func forget() async throws {
        try await withTemporaryStore { store, _ in
            let address = try EmailAddress("Secret.Person@example.com")
            var person = try new("Secret.Person@example.com")
            person.interests = try ReaderInterests(interests: ["secret topic"], authors: ["Secret Author"])
            let added = try await store.add(person, source: .cli)
            let paper = Paper(id: "2602.00001", version: 1, title: "A paper", abstract: "On secrets.", authors: ["A"], categories: ["cs.AI"])
            _ = try await PaperStore(database: store.database).record(
                day: Day(year: 2026, month: 2, day: 20)!, categories: ["cs.AI"], papers: [AnnouncedPaper(paper: paper, announceType: .new)], source: "test")
            #expect(try await store.vote(id: added.id, paper: paper.id, .up, taste: { _ in ["secret": 1] }))
            try await store.forget(address, source: .cli)
            // What they told us about their taste goes with the address.
            let remains = try await store.database.writer.read { db in
                try ["subscriber_interest", "subscriber_vote", "subscriber_taste"].map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)") ?? -1 }
            }
            #expect(remains == [0, 0, 0])
            let stored = try await store.database.writer.read { db in
                try Row.fetchOne(db, sql: "SELECT email, name, email_key, status FROM subscriber").map { row in
                    [row["email"], row["name"], row["email_key"], row["status"]] as [String?]
                }
            }
            #expect(stored?[0] == nil)
            #expect(stored?[1] == nil)
            #expect(stored?[2]?.hasPrefix("sha256:") == true)
            #expect(stored?[3] == "unsubscribed")
            let dump = try await store.database.writer.read { db in
                try String.fetchAll(db, sql: "SELECT COALESCE(detail, '') FROM subscriber_event").joined()
            }
            #expect(!dump.lowercased().contains("secret"))
            let found = try await store.find(try EmailAddress("secret.person@EXAMPLE.com"))
            #expect(found?.status == .unsubscribed)
            #expect(found?.isForgotten == true)
        }
    }

    @Test("a second connection writes while the first holds a write transaction, without 'database is locked'")
    func concurrentWriters() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("shared.sqlite").path
            let settings = Settings(databasePath: path)
            let first = SubscriberStore(database: try PaperPostDatabase.open(path: path), settings: settings)
            let second = SubscriberStore(database: try PaperPostDatabase.open(path: path), settings: settings)
            try await first.add(new("first@example.com"), source: .cli)

            // The first connection opens a write transaction and holds it until released.
            let started = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let holding = Task {
                try await first.database.writer.write { db in
                    try db.execute(sql: "UPDATE subscriber SET name = 'held'")
                    started.signal()
                    _ = release.wait(timeout: .now() + 30)
                }
            }
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    started.wait()
                    continuation.resume()
                }
            }
            // A reader is not blocked by the writer (WAL) and sees the last committed state.
            let seen = try await second.list()
            #expect(seen.map(\.name) == ["Test"])
            // A writer waits for the lock instead of failing: release the first one a little later.
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { release.signal() }
            try await second.add(new("second@example.com"), source: .cli)
            try await holding.value
            #expect(try await second.list().map(\.email) == ["first@example.com", "second@example.com"])
            #expect(try await second.list().map(\.name) == ["held", "Test"])
        }
    }

    @Test("stats count every status, and active subscribers by category and language")
    func stats() async throws {
        try await withTemporaryStore { store, _ in
            try await store.add(new("a@example.com", categories: ["cs.AI", "cs.LG"]), source: .cli)
            try await store.add(new("b@example.com", categories: ["cs.AI"]), source: .cli)
            try await store.add(new("c@example.com", status: .pending, categories: ["cs.CV"]), source: .cli)
            let stats = try await store.stats()
            #expect(stats.byStatus.map(\.0) == SubscriberStatus.allCases)
            #expect(stats.byStatus.first { $0.0 == .active }?.1 == 2)
            #expect(stats.byStatus.first { $0.0 == .pending }?.1 == 1)
            #expect(stats.activeByCategory.map(\.0) == ["cs.AI", "cs.LG"])
            #expect(stats.activeByCategory.map(\.1) == [2, 1])
            #expect(stats.activeByLanguage.first { $0.0 == .en }?.1 == 2)
        }
    }
}
