import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO
import TestSupport
import Testing

/// `paperpost migrate` against the real PostgreSQL server `make test` starts.
@Suite("paperpost migrate")
struct MigrateCommandTests {
    /// An installation after a day's run: subscribers, their history, papers, the digest, the
    /// delivery log, the run, a vote, a bounce and the link-signing key.
    func installation(_ directory: URL) async throws -> CommandLineRunner {
        let cli = CommandLineRunner(directory: directory, environment: ["PAPERPOST_TEMPLATES": CurateCommandTests.templates])
        let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
        let subscribers = try #require(Bundle.module.url(forResource: "Fixtures/subscribers", withExtension: "csv"))
        #expect(try await cli.run("subscribers", "import", subscribers.path).status == 0)
        // Backslashes and `\N` are what PostgreSQL's COPY format escapes and reads as NULL.
        let odd = try await cli.run("subscribers", "add", "odd@example.com", "--name", "Back\\slash \\N", "--interests", "agents; C:\\path\\N")
        #expect(odd.status == 0, "\(odd.stderr)")
        let daily = try await cli.run("daily", "--feed", feed.path, "--transport", "outbox")
        #expect(daily.status == 0, "\(daily.stderr)")
        return cli
    }

    var database: String { "var/paperpost.sqlite" }

    @Test("a day's installation is copied whole: every table, every value, the key that signs links, and ids go on after the highest")
    func copiesEverything() async throws {
        let url = try await TestPostgres.newDatabase()
        try await withTemporaryDirectory { directory in
            let cli = try await installation(directory)
            let result = try await cli.run("migrate", "--from", "sqlite:" + database, "--to", url, "--format", "json")
            #expect(result.status == 0, "\(result.stderr)")
            let copied = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
            let rows = Dictionary(uniqueKeysWithValues: copied.map { ($0["table"] as! String, $0["rows"] as! Int) })
            #expect(rows.count == 22, "every table but the key's")
            #expect(rows["digest"] == 1 && rows["daily_run"] == 1 && rows["subscriber_interest"] ?? 0 >= 2)
            #expect(rows["delivery"] ?? 0 >= 10)
            #expect(result.stderr.contains("the link-signing key came along"))

            let path = directory.appendingPathComponent(database).path
            for table in rows.keys.sorted() {
                let source = try TestPostgres.rows(of: table, inSQLite: path)
                let target = try await TestPostgres.rows(of: table, at: url)
                #expect(source == target, "\(table) differs")
                #expect(source.count == rows[table])
            }
            let key = try #require(FileManager.default.contents(atPath: directory.appendingPathComponent("var/secret").path))
            let stored = try await TestPostgres.withConnection(to: url) { connection in
                try await connection.query("SELECT encode(key, 'hex') FROM link_secret", logger: .init(label: "test")).collect()
                    .map { try $0.decode(String.self) }
            }
            #expect(stored == [key.map { String(format: "%02x", $0) }.joined()])

            let next = try await TestPostgres.withConnection(to: url) { connection in
                try await connection.query(
                    """
                    INSERT INTO subscriber (email, email_key, language, status, secret, created_at, updated_at)
                    VALUES ('new@example.com', 'new@example.com', 'en', 'active', 'x', now(), now()) RETURNING id
                    """, logger: .init(label: "test")
                ).collect().map { try $0.decode(Int64.self) }
            }
            #expect(next == [Int64(rows["subscriber"]!) + 1], "PostgreSQL numbers new subscribers after the copied ones")
        }
    }

    @Test("a database that already holds PaperPost rows is refused, and left as it was")
    func refusesACopyOverData() async throws {
        let url = try await TestPostgres.newDatabase()
        try await withTemporaryDirectory { directory in
            let cli = try await installation(directory)
            #expect(try await cli.run("migrate", "--to", url).status == 0)
            let copied = try await TestPostgres.rows(of: "subscriber", at: url)
            _ = try await cli.run("subscribers", "add", "later@example.com")
            let again = try await cli.run("migrate", "--to", url)
            #expect(again.status == 1)
            #expect(again.stderr.contains("already holds PaperPost data (\(copied.count) rows in 'subscriber'), so nothing was copied"), "\(again.stderr)")
            #expect(try await TestPostgres.rows(of: "subscriber", at: url) == copied)
        }
    }

    @Test("another application's database is refused untouched")
    func refusesAForeignDatabase() async throws {
        let url = try await TestPostgres.newDatabase()
        try await TestPostgres.withConnection(to: url) { connection in
            try await connection.query("CREATE TABLE customers (id int)", logger: .init(label: "test"))
        }
        try await withTemporaryDirectory { directory in
            let cli = try await installation(directory)
            let result = try await cli.run("migrate", "--to", url)
            #expect(result.status == 1)
            #expect(result.stderr.contains("is not a PaperPost database: it holds another application's tables (customers), so nothing was written to it"))
            let tables = try await TestPostgres.withConnection(to: url) { connection in
                try await connection.query(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'", logger: .init(label: "test")
                ).collect().map { try $0.decode(String.self) }
            }
            #expect(tables == ["customers"])
        }
    }

    @Test("a running send, a missing source, a bad URL and a server that is not there each get an error naming them")
    func badInputs() async throws {
        try await withTemporaryDirectory { directory in
            let cli = try await installation(directory)
            let url = try await TestPostgres.newDatabase()

            let missing = try await cli.run("migrate", "--from", "sqlite:var/none.sqlite", "--to", url)
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("there is no SQLite database at 'var/none.sqlite' to copy"))
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("var/none.sqlite").path))

            let notSQLite = try await cli.run("migrate", "--from", "var/paperpost.sqlite", "--to", url)
            #expect(notSQLite.status == 1)
            #expect(notSQLite.stderr.contains("--from takes sqlite:PATH"))

            let badURL = try await cli.run("migrate", "--to", "postgres://me:hunter2@127.0.0.1/db?sslmode=sometimes")
            #expect(badURL.status == 1)
            #expect(badURL.stderr.contains("'postgres://me:***@127.0.0.1/db?sslmode=sometimes' is not a PostgreSQL URL: sslmode must be one of"))
            #expect(!badURL.stderr.contains("hunter2"))

            let port = try refusingLocalPort()
            let nobody = try await cli.run("migrate", "--to", "postgres://me:hunter2@127.0.0.1:\(port)/db")
            #expect(nobody.status == 2)
            #expect(nobody.stderr.contains("cannot connect to postgres://me:***@127.0.0.1:\(port)/db"), "\(nobody.stderr)")
            #expect(!nobody.stderr.contains("hunter2"))

            let store = try PaperPostDatabase.open(path: directory.appendingPathComponent(database).path)
            let day = try Day(parsing: "2025-08-20")
            let lease = try await DeliveryStore(database: store).acquireLease(day: day, owner: "host-b pid 42", duration: 600)
            let running = try await cli.run("migrate", "--to", url)
            #expect(running.status == 1)
            #expect(running.stderr.contains("a send of 2025-08-20's digest is running (host-b pid 42"), "\(running.stderr)")
            try await DeliveryStore(database: store).releaseLease(lease)
            #expect(try await cli.run("migrate", "--to", url).status == 0, "the same copy once the send has finished")
        }
    }
}
