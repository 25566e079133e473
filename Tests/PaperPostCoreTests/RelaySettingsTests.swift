import Foundation
import PaperPostCore
import Testing

@Suite("Relay pools in the configuration")
struct RelaySettingsTests {
    @Test("PAPERPOST_SMTP_URL lists relays separated by commas or spaces, each with its own parameters")
    func listInTheVariable() async throws {
        let settings = try await Settings.load(environment: [
            "PAPERPOST_SMTP_URL": "smtp://a.example.org:587?connections=8&rate=50&weight=3, smtps://user:pw@b.example.org smtp://c.example.org:2525/helo.example.org"
        ])
        let relays = settings.delivery.relays
        #expect(relays.map(\.url) == ["smtp://a.example.org:587", "smtps://user:pw@b.example.org", "smtp://c.example.org:2525/helo.example.org"])
        #expect(relays.map(\.name) == ["smtp://a.example.org:587", "smtps://b.example.org:465", "smtp://c.example.org:2525"])
        #expect(relays[0].connections == 8 && relays[0].rate == 50 && relays[0].weight == 3)
        #expect(relays[1].connections == nil && relays[1].rate == nil && relays[1].weight == nil)
        #expect(settings.delivery.isRelayPool)
        #expect(settings.delivery.smtpURL == "smtp://a.example.org:587")

        let single = try await Settings.load(environment: ["PAPERPOST_SMTP_URL": "smtp://mail.example.org:587"])
        #expect(single.delivery.relays == [Relay(url: "smtp://mail.example.org:587")])
        #expect(!single.delivery.isRelayPool)
    }

    @Test("PAPERPOST_SMTP_RELAYS reads a file, one relay per line, with comments")
    func relayFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("relays-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# our relays\n\nsmtp://a.example.org:587?weight=2   # the cheap one\n  smtp://b.example.org:587\n".write(toFile: path, atomically: true, encoding: .utf8)
        let settings = try await Settings.load(environment: ["PAPERPOST_SMTP_RELAYS": path])
        #expect(settings.delivery.relays == [Relay(url: "smtp://a.example.org:587", weight: 2), Relay(url: "smtp://b.example.org:587")])

        try "smtp://a.example.org:587\nsmtp://b.example.org:587?weight=0\n".write(toFile: path, atomically: true, encoding: .utf8)
        await #expect { try await Settings.load(environment: ["PAPERPOST_SMTP_RELAYS": path]) } throws: { error in
            "\(error)".hasPrefix("\(path):2: weight: '0' is not a number from 0.01 to 10000")
        }
    }

    @Test("bad relay lists are refused, naming the variable or the file and line, and what is wrong", arguments: [
        ("PAPERPOST_SMTP_URL", "smtp://a.example.org, http://b.example.org", "PAPERPOST_SMTP_URL: 'http://b.example.org' is not an smtp:// or smtps:// URL"),
        ("PAPERPOST_SMTP_URL", "smtp://a.example.org?conections=4", "PAPERPOST_SMTP_URL: unknown relay parameter 'conections' (known: connections, rate, weight)"),
        ("PAPERPOST_SMTP_URL", "smtp://a.example.org?connections=100", "PAPERPOST_SMTP_URL: connections: '100' is not a whole number from 1 to 64"),
        ("PAPERPOST_SMTP_URL", "smtp://a.example.org?rate=", "PAPERPOST_SMTP_URL: rate: no value"),
        ("PAPERPOST_SMTP_URL", "smtp://a.example.org:25 smtp://a.example.org", "PAPERPOST_SMTP_URL: the relay smtp://a.example.org:25 is listed twice"),
        ("PAPERPOST_SMTP_RELAYS", "/nonexistent/relays.txt", "PAPERPOST_SMTP_RELAYS: cannot read '/nonexistent/relays.txt'"),
    ])
    func badLists(variable: String, value: String, message: String) async throws {
        await #expect { try await Settings.load(environment: [variable: value]) } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test("a list in both variables is refused")
    func bothVariables() async throws {
        await #expect {
            try await Settings.load(environment: ["PAPERPOST_SMTP_URL": "smtp://a.example.org", "PAPERPOST_SMTP_RELAYS": "relays.txt"])
        } throws: { error in
            "\(error)" == "PAPERPOST_SMTP_URL and PAPERPOST_SMTP_RELAYS both list relays: set one of them"
        }
    }

    @Test("a MySQL URL in PAPERPOST_DB is refused by name instead of being taken for a file path", arguments: ["MYSQL://db/x", "mariadb://db/x"])
    func databaseServerURL(url: String) async throws {
        await #expect { try await Settings.load(environment: ["PAPERPOST_DB": url]) } throws: { error in
            "\(error)".hasPrefix("PAPERPOST_DB: '") && "\(error)".contains("names a database server PaperPost does not support")
        }
        #expect(try Settings.checkDatabasePath("var/postgres:data.sqlite", name: "--db") == "var/postgres:data.sqlite")
    }

    @Test("a PostgreSQL URL in PAPERPOST_DB selects the PostgreSQL store", arguments: [
        "postgres://paperpost@db.example.org/paperpost", "postgresql://db.example.org/x", "POSTGRES://db/x",
    ])
    func postgresURL(url: String) async throws {
        let settings = try await Settings.load(environment: ["PAPERPOST_DB": url])
        #expect(settings.databasePath == url && settings.storesInPostgreSQL)
        #expect(!(try await Settings.load(environment: ["PAPERPOST_DB": "var/postgres.sqlite"])).storesInPostgreSQL)
    }
}
