import Foundation
import GRDB
import PaperPostStore
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStore

@Suite("copying a SQLite installation into PostgreSQL")
struct InstallationCopyTests {
    @Test("a value PostgreSQL rejects halfway through stops the copy, names the table and column, and leaves no row behind")
    func wholeOrNothing() async throws {
        let url = try await TestPostgres.newDatabase()
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("paperpost.sqlite").path
            let source = try PaperPostDatabase.open(path: path)
            let raw = try DatabaseQueue(path: path)
            try await raw.write { db in
                for id in 1...50 {
                    try db.execute(
                        sql: """
                            INSERT INTO subscriber (id, email, email_key, language, status, secret, created_at, updated_at)
                            VALUES (?, ?, ?, 'en', 'active', 'k', '2026-01-02 03:04:05.678', '2026-01-02 03:04:05.678')
                            """,
                        arguments: [id, "r\(id)@example.com", "r\(id)@example.com"])
                }
                // SQLite takes any text in a DATETIME column; PostgreSQL's timestamptz does not.
                try db.execute(sql: "INSERT INTO subscriber_vote VALUES (7, '2501.00001', 1, 'last Tuesday')")
            }
            try raw.close()

            let location = try PostgresLocation(url: url)
            let failure = await #expect(throws: PostgresStoreError.self) {
                _ = try await PostgresDatabase.withDatabase(at: location) { database in
                    try await InstallationCopy(source: source, secret: nil).copy(to: database)
                }
            }
            let message = failure?.description ?? ""
            #expect(message.contains("copying 'subscriber_vote'") && message.contains("column created_at"), "\(message)")
            #expect(message.contains("last Tuesday"))
            let counts = try await PostgresDatabase.withDatabase(at: location) { try await $0.counts() }
            #expect(counts["subscriber"] == 0, "the subscribers copied before the bad row were rolled back")
            #expect(counts.values.allSatisfy { $0 == 0 })

            // Mended at the source, the same target takes the copy.
            let mend = try DatabaseQueue(path: path)
            try await mend.write { try $0.execute(sql: "UPDATE subscriber_vote SET created_at = '2026-01-03 00:00:00.000'") }
            try mend.close()
            let report = try await PostgresDatabase.withDatabase(at: location) { database in
                try await InstallationCopy(source: source, secret: Array(repeating: 7, count: 32)).copy(to: database)
            }
            #expect(report.tables.first { $0.name == "subscriber" }?.rows == 50)
            #expect(report.tables.first { $0.name == "subscriber_vote" }?.rows == 1)
            #expect(report.copiedSecret)
            #expect(try await TestPostgres.rows(of: "subscriber_vote", at: url) == [["7", "2501.00001", "1", "2026-01-03 00:00:00.000"]])
        }
    }

    @Test("more rows than one page go over, in as many pages as it takes")
    func pages() async throws {
        let url = try await TestPostgres.newDatabase()
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("paperpost.sqlite").path
            let source = try PaperPostDatabase.open(path: path)
            let raw = try DatabaseQueue(path: path)
            let count = InstallationCopy.pageSize * 2 + 1
            try await raw.write { db in
                for index in 0..<count {
                    try db.execute(sql: "INSERT INTO rate_event (scope, key, at) VALUES ('signup', ?, ?)", arguments: [Data([UInt8(index % 256), 0, 9]), Double(index) + 0.25])
                }
            }
            try raw.close()
            let seen = Pages()
            _ = try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: url)) { database in
                try await InstallationCopy(source: source, secret: nil).copy(to: database) { table, rows in
                    if table == "rate_event" { seen.append(rows) }
                }
            }
            #expect(seen.values == [InstallationCopy.pageSize, InstallationCopy.pageSize * 2, count])
            #expect(try await TestPostgres.rows(of: "rate_event", at: url) == TestPostgres.rows(of: "rate_event", inSQLite: path))
        }
    }
}

/// Progress reports, collected from the copy's callback.
private final class Pages: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Int] = []
    func append(_ rows: Int) { lock.withLock { seen.append(rows) } }
    var values: [Int] { lock.withLock { seen } }
}

@Suite("COPY's text format")
struct CopyTextTests {
    @Test("tabs, newlines and backslashes are escaped, NULL is \\N, and each type is written as PostgreSQL reads it")
    func fields() throws {
        let columns: [CopyColumn] = [
            .init(name: "a", type: .text), .init(name: "b", type: .text), .init(name: "c", type: .text),
            .init(name: "d", type: .bytes), .init(name: "e", type: .boolean), .init(name: "f", type: .timestamp),
            .init(name: "g", type: .real), .init(name: "h", type: .integer),
        ]
        var buffer = ByteBuffer()
        try CopyText.append(
            [.text("a\tb\nc\r\\d"), .null, .text("\\N"), .blob([0, 255]), .integer(1), .text("2026-01-02 03:04:05.678"), .real(0.1), .integer(-3)],
            columns: columns, table: "t", to: &buffer)
        #expect(
            buffer.readString(length: buffer.readableBytes)
                == "a\\tb\\nc\\r\\\\d\t\\N\t\\\\N\t\\\\x00ff\tt\t2026-01-02 03:04:05.678+00\t0.1\t-3\n")
    }

    @Test("a value the column's type cannot take is refused, naming the table and column")
    func unconvertible() {
        var buffer = ByteBuffer()
        #expect(throws: PostgresStoreError.self) {
            try CopyText.append([.blob([1])], columns: [.init(name: "n", type: .integer)], table: "delivery", to: &buffer)
        }
        #expect(CopyText.field(.real(2.5), as: .integer) == .unconvertible)
        #expect(CopyText.field(.real(3), as: .integer) == .text("3"))
        #expect(CopyText.field(.null, as: .integer) == .null)
    }
}

@Suite("PostgreSQL URLs")
struct PostgresLocationTests {
    @Test("a URL as libpq writes it, with defaults and an escaped password")
    func parses() throws {
        let location = try PostgresLocation(url: "postgresql://paper:p%40ss@db.internal/news")
        #expect(location.host == "db.internal" && location.port == 5432 && location.user == "paper")
        #expect(location.password == "p@ss" && location.database == "news" && location.tls == .prefer)
        #expect(location.description == "postgres://paper:***@db.internal:5432/news")
        #expect(try PostgresLocation(url: "postgres://u@h:6543/d?sslmode=require").tls == .require)
    }

    @Test(
        "each wrong part is named, and no password is shown",
        arguments: [
            ("mysql://u:pw@h/d", "the scheme must be postgres:// or postgresql://"),
            ("postgres://u:pw@/d", "it names no host"),
            ("postgres://h/d", "it names no user"),
            ("postgres://u:pw@h", "it names no database"),
            ("postgres://u:pw@h/d?sslmode=maybe", "sslmode must be one of disable, prefer, require, not 'maybe'"),
            ("postgres://u:pw@h/d?timeout=3", "unknown parameter 'timeout'"),
        ])
    func refuses(url: String, reason: String) {
        do {
            _ = try PostgresLocation(url: url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
            #expect(!error.description.contains("pw"), "\(error)")
        }
    }
}
