import Foundation
import GRDB
import PaperPostCore
@testable import PaperPostStore
import TestSupport
import Testing

@Suite("Opening the database file")
struct PaperPostDatabaseTests {
    /// Every file SQLite may have next to `path`, with its bytes.
    func files(beside path: String) throws -> [String: Data] {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return files
    }

    @Test("another application's SQLite file is refused with the path and what to do, and not changed at all")
    func foreignDatabaseRefused() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("other-app.sqlite").path
            let other = try DatabaseQueue(path: path)
            try await other.write { db in
                try db.execute(sql: "CREATE TABLE foo(x)")
                try db.execute(sql: "INSERT INTO foo VALUES (42)")
            }
            try other.close()
            let before = try files(beside: path)

            #expect {
                try PaperPostDatabase.open(path: path)
            } throws: { error in
                guard case StoreError.foreignDatabase(let refused, let tables) = error else { return false }
                return refused == path && tables == ["foo"]
                    && "\(error)" == "'\(path)' is not a PaperPost database: it holds another application's tables (foo), "
                    + "so nothing was written to it. Point PAPERPOST_DB (or --db) at a new file or at an existing PaperPost database"
            }
            #expect(try files(beside: path) == before, "the file is byte for byte as it was, and SQLite left nothing beside it")
            let tables = try await DatabaseQueue(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            #expect(tables == ["foo"])
        }
    }

    @Test("another GRDB application's database is refused too: its migrations are not PaperPost's")
    func otherGRDBApplicationRefused() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("grdb-app.sqlite").path
            var migrator = DatabaseMigrator()
            migrator.registerMigration("create players") { db in
                try db.execute(sql: "CREATE TABLE player(id INTEGER PRIMARY KEY, name TEXT)")
            }
            let other = try DatabaseQueue(path: path)
            try migrator.migrate(other)
            try other.close()
            #expect {
                try PaperPostDatabase.open(path: path)
            } throws: { error in
                guard case StoreError.foreignDatabase(_, let tables) = error else { return false }
                return tables == ["player"]
            }
        }
    }

    @Test("an empty file, a new path and an existing PaperPost database all open")
    func ownAndNewFilesOpen() async throws {
        try await withTemporaryDirectory { directory in
            let empty = directory.appendingPathComponent("empty.sqlite").path
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            let database = try PaperPostDatabase.open(path: empty)
            let store = SubscriberStore(database: database, settings: Settings(databasePath: empty))
            try await store.add(
                NewSubscriber(email: try EmailAddress("a@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .active),
                source: .cli)

            let again = SubscriberStore(database: try PaperPostDatabase.open(path: empty), settings: Settings(databasePath: empty))
            #expect(try await again.list().map(\.email) == ["a@example.com"])

            // A PaperPost database that someone added a table of their own to is still PaperPost's.
            try await database.writer.write { db in try db.execute(sql: "CREATE TABLE notes(text)") }
            _ = try PaperPostDatabase.open(path: empty)
        }
    }

    @Test("a file that is not SQLite at all is still 'cannot open', naming the file")
    func notSQLite() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("notes.txt").path
            try Data("just some text, not a database\n".utf8).write(to: URL(fileURLWithPath: path))
            #expect {
                try PaperPostDatabase.open(path: path)
            } throws: { error in
                guard case StoreError.cannotOpen(let failed, _) = error else { return false }
                return failed == path
            }
        }
    }
}

@Suite("Dates as the delivery log writes them")
struct FastDateTextTests {
    @Test("the delivery log's date text is exactly GRDB's, so both read back and sort alike")
    func sameAsGRDB() {
        var generator = SystemRandomNumberGenerator()
        let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.999), Date(timeIntervalSince1970: 951_782_459.9996), Date(timeIntervalSince1970: 4_102_444_799.5)]
            + (0..<2_000).map { _ in Date(timeIntervalSince1970: Double.random(in: 0..<4_102_444_800, using: &generator)) }
        for date in dates {
            #expect(date.fastDatabaseValue == date.databaseValue, "\(date.timeIntervalSince1970)")
        }
    }
}

@Suite("The delivery log's blocking transactions")
struct BlockingTransactionTests {
    struct Refused: Error {}

    @Test("a transaction that throws keeps nothing it wrote, and the next one commits on the same connection")
    func rollsBackAndGoesOn() async throws {
        try await withTemporaryStore { store, _ in
            let database = store.database
            try database.writeBlocking { db in
                try db.execute(sql: "CREATE TABLE probe (value INTEGER)")
            }
            #expect(throws: Refused.self) {
                try database.writeBlocking { db in
                    try db.execute(sql: "INSERT INTO probe VALUES (1)")
                    throw Refused()
                }
            }
            // A statement SQLite itself refuses ends the transaction the same way.
            #expect(throws: StoreError.self) {
                try database.writeBlocking { db in
                    try db.execute(sql: "INSERT INTO probe VALUES (2)")
                    try db.execute(sql: "INSERT INTO no_such_table VALUES (3)")
                }
            }
            let written = try database.writeBlocking { db in
                try db.execute(sql: "INSERT INTO probe VALUES (4)")
                return try Int.fetchAll(db, sql: "SELECT value FROM probe")
            }
            #expect(written == [4])
            let read = try await database.read { db in try Int.fetchAll(db, sql: "SELECT value FROM probe") }
            #expect(read == [4])
        }
    }
}
