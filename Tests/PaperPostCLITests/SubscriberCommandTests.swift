import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PaperPostCore
@testable import PaperPostStore
import TestSupport
import Testing

/// The CLI as an operator meets it: the built binary, its exit codes, stdout and stderr.
@Suite("paperpost subscribers")
struct SubscriberCommandTests {
    /// Another installation's store beside the first.
    static func secondStore(_ backend: Backend, _ directory: URL) async throws -> String {
        backend == .sqlite ? directory.appendingPathComponent("second.sqlite").path : try await TestPostgres.newDatabase()
    }

    /// The CLI in a new directory; on PostgreSQL, with `PAPERPOST_DB` naming a new database.
    func withCLI(_ backend: Backend = .sqlite, _ body: (CommandLineRunner, URL) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let environment = backend == .postgres ? ["PAPERPOST_DB": try await TestPostgres.newDatabase()] : [:]
            try await body(CommandLineRunner(directory: directory, environment: environment), directory)
        }
    }

    @Test("add, list, show, update and remove work end to end with exit code 0", arguments: Backend.allCases)
    func lifecycle(backend: Backend) async throws {
        try await withCLI(backend) { cli, directory in
            var result = try await cli.run("subscribers", "add", "Ada@Example.org", "--name", "Ada Lovelace", "--categories", "cs.AI,cs.LG", "--language", "en")
            #expect(result.status == 0)
            #expect(result.stdout == "added Ada@Example.org (active; cs.AI, cs.LG; en)\n")
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("var/paperpost.sqlite").path) == (backend == .sqlite))
            let again = try await cli.run("subscribers", "add", "ada@example.org")
            #expect(again.status == 1 && again.stderr.contains("ada@example.org"), "\(again.stderr)")

            result = try await cli.run("subscribers", "update", "ada@example.org", "--add-category", "cs.CL", "--remove-category", "cs.LG")
            #expect(result.status == 0)
            #expect(result.stdout == "updated Ada@Example.org (active; cs.AI, cs.CL; en)\n")

            result = try await cli.run("subscribers", "list", "--format", "csv")
            #expect(result.stdout.hasPrefix("id,email,name,language,status,categories,bounce_count,bounce_score,created_at,confirmed_at,unsubscribed_at\r\n1,Ada@Example.org,Ada Lovelace,en,active,cs.AI;cs.CL,0,0.0,"))

            result = try await cli.run("subscribers", "remove", "ADA@example.org")
            #expect(result.status == 0)
            #expect(result.stdout == "unsubscribed Ada@Example.org\n")

            result = try await cli.run("subscribers", "show", "ada@example.org", "--format", "json")
            #expect(result.status == 0)
            let shown = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
            #expect(shown.first?["status"] as? String == "unsubscribed")
            let events = try #require(shown.first?["events"] as? [[String: Any]])
            #expect(events.map { $0["event"] as? String } == ["added", "categories_changed", "unsubscribed"])
        }
    }

    @Test("add and update take interests, muted phrases and authors; show lists them; a bad list exits 1 naming the field", arguments: Backend.allCases)
    func interests(backend: Backend) async throws {
        try await withCLI(backend) { cli, _ in
            let added = try await cli.run("subscribers", "add", "a@example.com", "--interests", "RLHF; reward models", "--authors", "Yoshua Bengio")
            #expect(added.status == 0, "\(added.stderr)")
            #expect(try await cli.run("subscribers", "update", "a@example.com", "--muted", "diffusion; Diffusion").status == 0)
            let shown = try await cli.run("subscribers", "show", "a@example.com", "--format", "json")
            let row = try #require((try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]])?.first)
            #expect(row["interests"] as? [String] == ["RLHF", "reward models"])
            #expect(row["muted"] as? [String] == ["diffusion"], "duplicates fold")
            #expect(row["authors"] as? [String] == ["Yoshua Bengio"])
            let table = try await cli.run("subscribers", "show", "a@example.com")
            #expect(table.stdout.contains("interests       RLHF;reward models"))

            let many = (1...21).map { "t\($0)" }.joined(separator: ";")
            let refused = try await cli.run("subscribers", "update", "a@example.com", "--interests", many)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("invalid interests"))
            #expect(refused.stderr.contains("at most 20"))
            #expect(try await cli.run("subscribers", "update", "a@example.com", "--authors", "").status == 0)
            let cleared = try await cli.run("subscribers", "show", "a@example.com", "--format", "json")
            let after = try #require((try JSONSerialization.jsonObject(with: Data(cleared.stdout.utf8)) as? [[String: Any]])?.first)
            #expect(after["authors"] as? [String] == [])
            #expect(after["interests"] as? [String] == ["RLHF", "reward models"])
            #expect((after["votes"] as? [Any])?.isEmpty == true)
            #expect(after["schedule"] as? String == "daily")
            #expect(try await cli.run("subscribers", "update", "a@example.com", "--schedule", "weekly:wed").status == 0)
            let weekly = try await cli.run("subscribers", "show", "a@example.com", "--format", "json")
            #expect((try JSONSerialization.jsonObject(with: Data(weekly.stdout.utf8)) as? [[String: Any]])?.first?["schedule"] as? String == "weekly:wed")
            let sunday = try await cli.run("subscribers", "update", "a@example.com", "--schedule", "weekly:sun")
            #expect(sunday.status == 1)
            #expect(sunday.stderr.contains("invalid schedule 'weekly:sun'"))
        }
    }

    @Test("show lists a reader's votes from the email's feedback links, newest first, with the paper's title")
    func votes() async throws {
        try await withCLI { cli, directory in
            #expect(try await cli.run("subscribers", "add", "a@example.com").status == 0)
            let database = try PaperPostDatabase.open(path: directory.appendingPathComponent("var/paperpost.sqlite").path)
            let paper = Paper(id: "2602.00001", version: 1, title: "Reward models", abstract: "RLHF.", authors: ["A"], categories: ["cs.AI"])
            _ = try await PaperStore(database: database).record(
                day: Day(year: 2026, month: 2, day: 20)!, categories: ["cs.AI"], papers: [AnnouncedPaper(paper: paper, announceType: .new)], source: "test")
            let store = SubscriberStore(database: database, settings: Settings())
            let id = try #require(try await store.find(try EmailAddress("a@example.com"))?.id)
            #expect(try await store.vote(id: id, paper: "2602.00001", .down, taste: { _ in ["reward": 1] }))
            let shown = try await cli.run("subscribers", "show", "a@example.com", "--format", "json")
            let row = try #require((try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]])?.first)
            let votes = try #require(row["votes"] as? [[String: Any]])
            #expect(votes.count == 1)
            #expect(votes.first?["paper_id"] as? String == "2602.00001")
            #expect(votes.first?["vote"] as? String == "down")
            #expect(votes.first?["title"] as? String == "Reward models")
            let table = try await cli.run("subscribers", "show", "a@example.com")
            #expect(table.stdout.contains("votes:"))
            #expect(table.stdout.contains("2602.00001"))
        }
    }

    @Test("list --format json is an array of objects with stable snake_case keys")
    func jsonKeys() async throws {
        try await withCLI { cli, _ in
            _ = try await cli.run("subscribers", "add", "li@example.com", "--name", "李伟")
            let result = try await cli.run("subscribers", "list", "--format", "json")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
            #expect(Set(rows[0].keys) == [
                "id", "email", "name", "language", "status", "categories", "bounce_count", "bounce_score",
                "created_at", "confirmed_at", "unsubscribed_at",
            ])
            #expect(rows[0]["name"] as? String == "李伟")
            #expect(rows[0]["categories"] as? [String] == ["cs.AI", "cs.CL", "cs.LG"])
        }
    }

    @Test("bad input exits 1 with a message on stderr that names the input, and writes nothing", arguments: [
        (["subscribers", "add", "not-an-address"], "invalid email address 'not-an-address'"),
        (["subscribers", "add", "a@example.com", "--categories", "cs.AI,cs.XX"], "unknown arXiv category 'cs.XX'"),
        (["subscribers", "add", "a@example.com", "--language", "fr"], "'fr'"),
        (["subscribers", "add", "a@example.com", "--status", "bounced"], "--status for a new subscriber is active or pending"),
        (["subscribers", "list", "--category", "cs.NOPE"], "unknown arXiv category 'cs.NOPE'"),
        (["subscribers", "list", "--format", "xml"], "'xml'"),
        (["subscribers", "show", "nobody@example.com"], "no subscriber with the address 'nobody@example.com'"),
        (["subscribers", "frobnicate"], "frobnicate"),
        (["subscribers", "import", "missing.csv"], "cannot read 'missing.csv'"),
    ])
    func badInput(arguments: [String], message: String) async throws {
        try await withCLI { cli, _ in
            let result = try await cli.run(arguments)
            #expect(result.status == 1)
            #expect(result.stderr.contains(message))
            #expect(result.stdout.isEmpty)
            let list = try await cli.run("subscribers", "list", "--format", "json")
            #expect(list.stdout == "[\n\n]\n" || list.stdout == "[]\n")
        }
    }

    @Test("an import with bad rows exits 1, lists FILE:LINE for each, and writes nothing; --skip-invalid exits 3", arguments: Backend.allCases)
    func importBadRows(backend: Backend) async throws {
        try await withCLI(backend) { cli, directory in
            let file = directory.appendingPathComponent("people.csv")
            try Data("email,categories\ngood@example.com,cs.AI\nbad-address,cs.AI\nok@example.com,cs.ZZ\n".utf8).write(to: file)

            var result = try await cli.run("subscribers", "import", "people.csv")
            #expect(result.status == 1)
            #expect(result.stderr.contains("people.csv:3: invalid email address 'bad-address': no '@'"))
            #expect(result.stderr.contains("people.csv:4: unknown arXiv category 'cs.ZZ'"))
            #expect(try await cli.run("subscribers", "list", "--format", "csv").stdout.split(separator: "\r\n").count == 1)

            result = try await cli.run("subscribers", "import", "people.csv", "--skip-invalid")
            #expect(result.status == 3)
            #expect(result.stdout == "imported: 1 added, 0 updated, 0 resubscribed, 0 unchanged, 0 suppressed, 2 invalid\n")
            #expect(result.stderr.contains("people.csv:3: invalid email address 'bad-address': no '@' (skipped)"))
        }
    }

    @Test("re-importing an unsubscribed address reports it on stderr and leaves it unsubscribed", arguments: Backend.allCases)
    func reimportUnsubscribed(backend: Backend) async throws {
        try await withCLI(backend) { cli, directory in
            try Data("email\ngone@example.com\n".utf8).write(to: directory.appendingPathComponent("a.csv"))
            _ = try await cli.run("subscribers", "import", "a.csv")
            _ = try await cli.run("subscribers", "remove", "gone@example.com")
            let result = try await cli.run("subscribers", "import", "a.csv", "--update-existing")
            #expect(result.status == 0)
            #expect(result.stderr.contains("a.csv:2: gone@example.com: unsubscribed; not re-activated (use --resubscribe if they asked to come back)"))
            #expect(try await cli.run("subscribers", "list", "--status", "active", "--format", "csv").stdout.split(separator: "\r\n").count == 1)
        }
    }

    @Test("export writes the import format, and the sample file round-trips exactly", arguments: Backend.allCases)
    func exportRoundTrip(backend: Backend) async throws {
        try await withCLI(backend) { cli, directory in
            let sample = try #require(Bundle.module.url(forResource: "Fixtures/subscribers", withExtension: "csv"))
            try FileManager.default.copyItem(at: sample, to: directory.appendingPathComponent("sample.csv"))
            #expect(try await cli.run("subscribers", "import", "sample.csv").status == 0)
            #expect(try await cli.run("subscribers", "export", "out.csv").status == 0)

            let second = CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": try await Self.secondStore(backend, directory)])
            #expect(try await second.run("subscribers", "import", "out.csv").status == 0)
            let again = try await second.run("subscribers", "export")
            #expect(again.stdout == String(decoding: try Data(contentsOf: directory.appendingPathComponent("out.csv")), as: UTF8.self))
            #expect(again.stdout.contains("李伟"))
        }
    }

    @Test("--db wins over PAPERPOST_DB, which wins over the configuration file")
    func configurationPrecedence() async throws {
        try await withTemporaryDirectory { directory in
            try Data("PAPERPOST_DB=from-file.sqlite\nPAPERPOST_DEFAULT_LANGUAGE=en\n".utf8)
                .write(to: directory.appendingPathComponent("paperpost.env"))
            let fileOnly = CommandLineRunner(directory: directory)
            _ = try await fileOnly.run("subscribers", "add", "a@example.com", "--config", "paperpost.env")
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("from-file.sqlite").path))
            let listed = try await fileOnly.run("subscribers", "list", "--config", "paperpost.env", "--format", "csv")
            #expect(listed.stdout.contains(",en,active,"))

            let environment = CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": "from-env.sqlite", "PAPERPOST_CONFIG": "paperpost.env"])
            _ = try await environment.run("subscribers", "add", "b@example.com")
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("from-env.sqlite").path))
            _ = try await environment.run("subscribers", "add", "c@example.com", "--db", "from-flag.sqlite")
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("from-flag.sqlite").path))

            let bad = try await CommandLineRunner(directory: directory, environment: ["PAPERPOST_DEFAULT_LANGUAGE": "fr"]).run("subscribers", "list")
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("PAPERPOST_DEFAULT_LANGUAGE: invalid language 'fr'"))
        }
    }

    @Test("a PostgreSQL server that refuses is a failure (exit 2) naming it with the password masked; a database server PaperPost does not support is bad input (exit 1); neither creates a file")
    func databaseServerURL() async throws {
        try await withCLI { cli, directory in
            let port = try refusingLocalPort()
            let result = try await cli.run("subscribers", "add", "a@example.com", "--db", "postgres://paperpost:hunter2@127.0.0.1:\(port)/paperpost")
            #expect(result.status == 2)
            #expect(result.stderr.contains("cannot connect to postgres://paperpost:***@127.0.0.1:\(port)/paperpost"), "\(result.stderr)")
            #expect(!result.stderr.contains("hunter2"))
            let mysql = try await cli.run("subscribers", "list", "--db", "mysql://localhost/paperpost")
            #expect(mysql.status == 1)
            #expect(mysql.stderr.contains("--db: 'mysql://…' names a database server PaperPost does not support"), "\(mysql.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("postgres:").path))
        }
    }

    @Test("a database that cannot be opened is a failure (exit 2) naming the path")
    func unopenableDatabase() async throws {
        try await withCLI { cli, directory in
            try Data("not a directory".utf8).write(to: directory.appendingPathComponent("file"))
            let result = try await cli.run("subscribers", "list", "--db", "file/paperpost.sqlite")
            #expect(result.status == 2)
            #expect(result.stderr.contains("cannot open the database 'file/paperpost.sqlite'"))
        }
    }

    /// Fills a pipe to the brim, so that the next write to it blocks until someone reads.
    static func fill(_ pipe: Pipe) {
        let descriptor = pipe.fileHandleForWriting.fileDescriptor
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        let filler = [UInt8](repeating: UInt8(ascii: "."), count: 4096)
        while write(descriptor, filler, filler.count) > 0 {}
        while write(descriptor, filler, 1) > 0 {}
        _ = fcntl(descriptor, F_SETFL, flags)
    }

    /// Reads to the end on a thread of its own, leaving the test's threads free meanwhile.
    static func readToEnd(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: handle.readDataToEndOfFile()) }
        }
    }

    @Test("a one-click unsubscribe to paperpost serve during a 20,000-row import succeeds: the import leaves the lock free between its transactions")
    func unsubscribeDuringImport() async throws {
        try await withTemporaryDirectory { directory in
            let secret = "import-beside-serve-secret-0123456789abcdef"
            let environment = [
                "PAPERPOST_DB": directory.appendingPathComponent("paperpost.sqlite").path, "PAPERPOST_SECRET": secret,
                "PAPERPOST_TEMPLATES": CurateCommandTests.templates,
            ]
            let cli = CommandLineRunner(directory: directory, environment: environment)
            #expect(try await cli.run("subscribers", "add", "early@example.com", "--categories", "cs.AI").status == 0)
            #expect(try await cli.run("subscribers", "add", "late@example.com", "--categories", "cs.AI").status == 0)
            let rows = 20_000
            var csv = "email,name,categories\n"
            for index in 0..<rows { csv += "reader\(index)@example.com,Reader \(index),cs.LG\n" }
            try Data(csv.utf8).write(to: directory.appendingPathComponent("readers.csv"))

            // The test's own connection to the same file, to watch the import. Links are signed
            // as the server signs them.
            var settings = Settings(databasePath: environment["PAPERPOST_DB"]!, mail: MailSettings(secret: secret))
            settings.templatesDirectory = CurateCommandTests.templates
            let store = SubscriberStore(database: try PaperPostDatabase.open(path: settings.databasePath), settings: settings)
            let server = try await ServeProcess(executable: CommandLineRunner.executable, directory: directory, environment: environment)
            func unsubscribeURL(_ email: String) async throws -> URL {
                let recipient = try #require(try await store.recipients(only: try EmailAddress(email)).first)
                let token = LinkToken(purpose: .unsubscribe, subscriberID: recipient.subscriberID)
                    .signed(serverSecret: try ServerSecret.load(settings), subscriberSecret: recipient.linkSecret)
                return try #require(URL(string: "\(server.baseURL)/unsubscribe?token=\(token)"))
            }
            func subscriberCount() async throws -> Int {
                try await store.stats().byStatus.reduce(0) { $0 + $1.1 }
            }

            // The import's stderr is a pipe the test fills before it starts: the import's first
            // progress line, written after its first transaction commits and outside it, then
            // blocks until the test reads. So the import stops part-way, holding no lock, every time.
            let progress = Pipe()
            Self.fill(progress)

            let importer = Process()
            importer.executableURL = CommandLineRunner.executable
            importer.arguments = ["subscribers", "import", "readers.csv"]
            importer.currentDirectoryURL = directory
            importer.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]) { $1 }
            let output = directory.appendingPathComponent("import.out")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            importer.standardOutput = try FileHandle(forWritingTo: output)
            importer.standardError = progress
            try importer.run()
            defer {
                if importer.isRunning { kill(importer.processIdentifier, SIGKILL) }
            }

            // Wait for the import's first transaction to be committed; it then waits on the pipe.
            var polls = 0
            while importer.isRunning, try await subscriberCount() == 2, polls < 60_000 {
                try await Task.sleep(for: .milliseconds(10))
                polls += 1
            }
            let early = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            try #require(importer.isRunning, "the import ended before its first progress line: \(early)")
            let partial = try await subscriberCount()
            #expect(partial > 2 && partial < rows + 2, "the import is part-way: \(partial - 2) of \(rows) rows are in")

            var request = URLRequest(url: try await unsubscribeURL("early@example.com"))
            request.httpMethod = "POST"
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data("List-Unsubscribe=One-Click".utf8)
            let (_, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            #expect(try await store.get(try EmailAddress("early@example.com")).status == .unsubscribed)
            #expect(try await subscriberCount() == partial, "the import was still part-way when the unsubscribe was done")

            // Once the import runs again, a second unsubscribe has to wait for at most one of its transactions.
            let progressLines = Task { await Self.readToEnd(progress.fileHandleForReading) }
            request.url = try await unsubscribeURL("late@example.com")
            let (_, lateResponse) = try await URLSession.shared.data(for: request)
            #expect((lateResponse as? HTTPURLResponse)?.statusCode == 200)

            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    importer.waitUntilExit()
                    continuation.resume()
                }
            }
            #expect(importer.terminationStatus == 0)
            #expect(try String(contentsOf: output, encoding: .utf8).contains("imported: \(rows) added"))
            #expect(String(decoding: await progressLines.value, as: UTF8.self).contains("of \(rows) rows written"))
            #expect(try await subscriberCount() == rows + 2)
            #expect(try await store.list(status: .unsubscribed).map(\.email) == ["early@example.com", "late@example.com"])
            #expect(try await server.terminate() == 0)
            #expect(!server.log.contains("status=500"))
        }
    }

    @Test("a 20,000-row file with a bad last row exits 1 naming its line, and writes nothing", arguments: Backend.allCases)
    func bigImportWithBadLastRow(backend: Backend) async throws {
        try await withCLI(backend) { cli, directory in
            var csv = "email,categories\n"
            for index in 0..<20_000 { csv += "reader\(index)@example.com,cs.AI\n" }
            csv += "reader20000@example.com,cs.NOPE\n"
            try Data(csv.utf8).write(to: directory.appendingPathComponent("readers.csv"))
            let result = try await cli.run("subscribers", "import", "readers.csv")
            #expect(result.status == 1)
            #expect(result.stderr.contains("readers.csv:20002: unknown arXiv category 'cs.NOPE'"))
            #expect(result.stderr.contains("nothing was imported"))
            let listed = try await cli.run("subscribers", "list", "--format", "csv")
            #expect(listed.stdout.split(separator: "\r\n").count == 1)
        }
    }

    @Test("export writes names that spreadsheets would run as formulas behind a quote, and they import back unchanged", arguments: Backend.allCases)
    func exportDefusesFormulas(backend: Backend) async throws {
        try await withCLI(backend) { cli, directory in
            #expect(try await cli.run("subscribers", "add", "a@example.com", "--name", "=HYPERLINK(\"http://evil.example\")").status == 0)
            #expect(try await cli.run("subscribers", "add", "b@example.com", "--name", "@SUM(A1)", "--language", "en").status == 0)
            let exported = try await cli.run("subscribers", "export")
            #expect(exported.stdout == "email,name,categories,language,status,interests,muted,authors,schedule\r\n"
                + #"a@example.com,"'=HYPERLINK(""http://evil.example"")",cs.AI;cs.CL;cs.LG,zh,active,,,,daily"# + "\r\n"
                + "b@example.com,'@SUM(A1),cs.AI;cs.CL;cs.LG,en,active,,,,daily\r\n")
            try Data(exported.stdout.utf8).write(to: directory.appendingPathComponent("out.csv"))
            let second = CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": try await Self.secondStore(backend, directory)])
            #expect(try await second.run("subscribers", "import", "out.csv").status == 0)
            let shown = try await second.run("subscribers", "show", "a@example.com", "--format", "json")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]])
            #expect(rows.first?["name"] as? String == "=HYPERLINK(\"http://evil.example\")")
            #expect(try await second.run("subscribers", "export").stdout == exported.stdout)
        }
    }

    @Test("PAPERPOST_DB pointing at another application's SQLite file exits 1, says what to do, and leaves the file alone")
    func foreignDatabase() async throws {
        try await withCLI { cli, directory in
            let path = directory.appendingPathComponent("other-app.sqlite").path
            try runCommand(["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE foo(x)'); c.commit()", path])
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            let other = CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": path])
            let result = try await other.run("subscribers", "add", "a@example.com")
            #expect(result.status == 1)
            #expect(result.stderr.contains("'\(path)' is not a PaperPost database: it holds another application's tables (foo)"))
            #expect(result.stderr.contains("Point PAPERPOST_DB (or --db) at a new file or at an existing PaperPost database"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("other-app") } == ["other-app.sqlite"])
        }
    }
}
