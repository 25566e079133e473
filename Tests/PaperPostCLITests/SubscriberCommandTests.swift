import Foundation
import TestSupport
import Testing

/// The CLI as an operator meets it: the built binary, its exit codes, stdout and stderr.
@Suite("paperpost subscribers")
struct SubscriberCommandTests {
    func withCLI(_ body: (CommandLineRunner, URL) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            try await body(CommandLineRunner(directory: directory), directory)
        }
    }

    @Test("add, list, show, update and remove work end to end with exit code 0")
    func lifecycle() async throws {
        try await withCLI { cli, directory in
            var result = try await cli.run("subscribers", "add", "Ada@Example.org", "--name", "Ada Lovelace", "--categories", "cs.AI,cs.LG", "--language", "en")
            #expect(result.status == 0)
            #expect(result.stdout == "added Ada@Example.org (active; cs.AI, cs.LG; en)\n")
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("var/paperpost.sqlite").path))

            result = try await cli.run("subscribers", "update", "ada@example.org", "--add-category", "cs.CL", "--remove-category", "cs.LG")
            #expect(result.status == 0)
            #expect(result.stdout == "updated Ada@Example.org (active; cs.AI, cs.CL; en)\n")

            result = try await cli.run("subscribers", "list", "--format", "csv")
            #expect(result.stdout.hasPrefix("id,email,name,language,status,categories,bounce_count,created_at,confirmed_at,unsubscribed_at\r\n1,Ada@Example.org,Ada Lovelace,en,active,cs.AI;cs.CL,0,"))

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

    @Test("list --format json is an array of objects with stable snake_case keys")
    func jsonKeys() async throws {
        try await withCLI { cli, _ in
            _ = try await cli.run("subscribers", "add", "li@example.com", "--name", "李伟")
            let result = try await cli.run("subscribers", "list", "--format", "json")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
            #expect(Set(rows[0].keys) == [
                "id", "email", "name", "language", "status", "categories", "bounce_count",
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

    @Test("an import with bad rows exits 1, lists FILE:LINE for each, and writes nothing; --skip-invalid exits 3")
    func importBadRows() async throws {
        try await withCLI { cli, directory in
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

    @Test("re-importing an unsubscribed address reports it on stderr and leaves it unsubscribed")
    func reimportUnsubscribed() async throws {
        try await withCLI { cli, directory in
            try Data("email\ngone@example.com\n".utf8).write(to: directory.appendingPathComponent("a.csv"))
            _ = try await cli.run("subscribers", "import", "a.csv")
            _ = try await cli.run("subscribers", "remove", "gone@example.com")
            let result = try await cli.run("subscribers", "import", "a.csv", "--update-existing")
            #expect(result.status == 0)
            #expect(result.stderr.contains("a.csv:2: gone@example.com: unsubscribed; not re-activated (use --resubscribe if they asked to come back)"))
            #expect(try await cli.run("subscribers", "list", "--status", "active", "--format", "csv").stdout.split(separator: "\r\n").count == 1)
        }
    }

    @Test("export writes the import format, and the sample file round-trips exactly")
    func exportRoundTrip() async throws {
        try await withCLI { cli, directory in
            let sample = try #require(Bundle.module.url(forResource: "Fixtures/subscribers", withExtension: "csv"))
            try FileManager.default.copyItem(at: sample, to: directory.appendingPathComponent("sample.csv"))
            #expect(try await cli.run("subscribers", "import", "sample.csv").status == 0)
            #expect(try await cli.run("subscribers", "export", "out.csv").status == 0)

            let second = CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": directory.appendingPathComponent("second.sqlite").path])
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

    @Test("a database that cannot be opened is a failure (exit 2) naming the path")
    func unopenableDatabase() async throws {
        try await withCLI { cli, directory in
            try Data("not a directory".utf8).write(to: directory.appendingPathComponent("file"))
            let result = try await cli.run("subscribers", "list", "--db", "file/paperpost.sqlite")
            #expect(result.status == 2)
            #expect(result.stderr.contains("cannot open the database 'file/paperpost.sqlite'"))
        }
    }
}
