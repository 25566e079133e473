import Foundation
import TestSupport
import Testing

/// `paperpost check` and the refusal it backs: what a new operator would otherwise mail out.
@Suite("paperpost check")
struct CheckCommandTests {
    static func items(_ result: CommandResult) throws -> [String: [(level: String, detail: String)]] {
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        var items: [String: [(level: String, detail: String)]] = [:]
        for row in rows {
            items[row["item"] as? String ?? "", default: []].append((row["level"] as? String ?? "", row["detail"] as? String ?? ""))
        }
        return items
    }

    @Test("the defaults fail on localhost links, an example.org From, no DKIM and no bounce address; send over SMTP refuses")
    func defaultsFail() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await LocalSMTPServer()
            defer { server.stop() }
            let cli = CommandLineRunner(directory: directory, environment: [
                "PAPERPOST_TEMPLATES": CurateCommandTests.templates, "PAPERPOST_SMTP_URL": server.url, "PAPERPOST_SMTP_TLS": "off",
                "PAPERPOST_SECRET": String(repeating: "s", count: 40),
            ])
            let result = try await cli.run("check", "--format", "json")
            #expect(result.status == 1)
            let items = try Self.items(result)
            #expect(items["base_url"]?.first?.level == "fail")
            #expect(items["base_url"]?.first?.detail.contains("localhost") == true)
            #expect(items["from_domain"]?.first?.level == "fail")
            #expect(items["dkim"]?.first?.level == "fail")
            #expect(items["bounce_address"]?.first?.level == "fail")
            #expect(items["llm"]?.first?.level == "warn")

            let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
            #expect(try await cli.run("subscribers", "add", "reader@example.com").status == 0)
            #expect(try await cli.run("fetch", "--feed", feed.path).status == 0)
            #expect(try await cli.run("curate").status == 0)
            let refused = try await cli.run("send")
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("refusing to mail subscribers while `paperpost check` fails"))
            #expect(refused.stderr.contains("base_url") && refused.stderr.contains("--force-unsafe"))
            let daily = try await cli.run("daily", "--feed", feed.path)
            #expect(daily.status == 1)
            #expect(try await server.messages().isEmpty)
            // The outbox is not mail to anyone: it is never refused.
            #expect(try await cli.run("send", "--transport", "outbox").status == 0)
        }
    }

    @Test("a real configuration passes, and --live tries the relay's STARTTLS and AUTH and the model")
    func realConfiguration() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await LocalSMTPServer(tls: .required, auth: (user: "digest", password: "correct horse"))
            defer { server.stop() }
            let model = try await LocalLLMServer()
            defer { model.stop() }
            var environment = [
                "PAPERPOST_TEMPLATES": CurateCommandTests.templates, "PAPERPOST_SMTP_URL": server.url,
                "PAPERPOST_SMTP_CA_FILE": try #require(server.certificatePath), "PAPERPOST_SMTP_USER": "digest",
                "PAPERPOST_SMTP_PASSWORD": "correct horse", "PAPERPOST_SECRET": String(repeating: "s", count: 40),
                "PAPERPOST_BASE_URL": "https://news.paperpost.dev", "PAPERPOST_MAIL_FROM": "PaperPost <digest@paperpost.dev>",
                "PAPERPOST_BOUNCE_ADDRESS": "bounces@paperpost.dev", "PAPERPOST_DKIM_SELECTOR": "2026a",
                "PAPERPOST_DKIM_KEY_FILE": directory.appendingPathComponent("2026a.rsa.pem").path,
                "PAPERPOST_LLM_BASE_URL": model.baseURL, "PAPERPOST_LLM_API_KEY": model.apiKey,
            ]
            let keygen = try await CommandLineRunner(directory: directory, environment: environment)
                .run("dkim", "keygen", "--selector", "2026a", "--directory", directory.path)
            #expect(keygen.status == 0, "\(keygen.stderr)")
            var cli = CommandLineRunner(directory: directory, environment: environment)
            let result = try await cli.run("check", "--live", "--format", "json")
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            let items = try Self.items(result)
            #expect(items.values.joined().allSatisfy { $0.level != "fail" })
            #expect(items["dkim_alignment"]?.first?.level == "ok")
            #expect(items["dkim_record"]?.first?.detail.contains("2026a._domainkey.paperpost.dev. IN TXT \"v=DKIM1; k=rsa; p=") == true)
            #expect(items["smtp_live"]?.first?.detail.contains("AUTH accepted") == true)
            #expect(items["llm_live"]?.first?.level == "ok")
            #expect(try await server.messages().isEmpty)

            environment["PAPERPOST_SMTP_PASSWORD"] = "wrong"
            cli = CommandLineRunner(directory: directory, environment: environment)
            let refused = try await cli.run("check", "--live", "--format", "json")
            #expect(refused.status == 1)
            #expect(try Self.items(refused)["smtp_live"]?.first?.detail.contains("refused the login") == true)

            environment["PAPERPOST_DKIM_DOMAIN"] = "elsewhere.dev"
            cli = CommandLineRunner(directory: directory, environment: environment)
            let misaligned = try Self.items(try await cli.run("check", "--format", "json"))
            #expect(misaligned["dkim_alignment"]?.first?.level == "fail")

            // A pool: each relay is checked and greeted on its own; the dead one fails by name.
            environment["PAPERPOST_DKIM_DOMAIN"] = nil
            environment["PAPERPOST_SMTP_PASSWORD"] = "correct horse"
            let dead = "smtp://127.0.0.1:\(try refusingLocalPort())"
            environment["PAPERPOST_SMTP_URL"] = "\(server.url)?weight=2, \(dead)"
            cli = CommandLineRunner(directory: directory, environment: environment)
            let pooled = try Self.items(try await cli.run("check", "--live", "--format", "json"))
            #expect(pooled["smtp"]?.count == 2)
            let live = try #require(pooled["smtp_live"])
            #expect(live.count == 2)
            #expect(live[0].level == "ok" && live[0].detail.hasPrefix("\(server.url): EHLO answered, TLS, AUTH accepted"), "\(live[0].detail)")
            #expect(live[1].level == "fail" && live[1].detail.contains("\(dead)") && live[1].detail.contains("cannot connect"), "\(live[1].detail)")
        }
    }

    @Test("a PostgreSQL store on another host: sslmode=disable fails, prefer (the default) warns, require is ok, this host is ok; the password is never shown")
    func postgresStore() async throws {
        try await withTemporaryDirectory { directory in
            for (url, level) in [
                ("postgres://paperpost:hunter2@db.internal/paperpost?sslmode=disable", "fail"),
                ("postgres://paperpost:hunter2@db.internal/paperpost", "warn"),
                ("postgres://paperpost:hunter2@db.internal/paperpost?sslmode=require", "ok"),
                ("postgres://paperpost:hunter2@127.0.0.1:5432/paperpost?sslmode=disable", "ok"),
            ] {
                let result = try await CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": url]).run("check", "--format", "json")
                let item = try #require(try Self.items(result)["database"]?.first, "\(url): \(result.stdout) \(result.stderr)")
                #expect(item.level == level, "\(url): \(item.detail)")
                #expect(item.detail.contains("PostgreSQL at ") && item.detail.contains("/paperpost"))
                #expect(!result.stdout.contains("hunter2") && !result.stderr.contains("hunter2"))
            }
            let sqlite = try await CommandLineRunner(directory: directory).run("check", "--format", "json")
            #expect(try Self.items(sqlite)["database"] == nil, "a SQLite file needs no check")
        }
    }

    @Test("--live connects to a PostgreSQL store without creating anything and says what it found; one that refuses fails, the password masked")
    func postgresLive() async throws {
        try await withTemporaryDirectory { directory in
            let url = try await TestPostgres.newDatabase()
            let fresh = try await CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": url]).run("check", "--live", "--format", "json")
            let found = try #require(try Self.items(fresh)["database_live"]?.first, "\(fresh.stdout) \(fresh.stderr)")
            #expect(found.level == "ok" && found.detail.contains("connected: PostgreSQL ") && found.detail.contains("max_connections"), "\(found.detail)")
            #expect(found.detail.contains("tables are not there yet"), "the check created nothing: \(found.detail)")
            _ = try await CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": url]).run("subscribers", "stats")
            let after = try await CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": url]).run("check", "--live", "--format", "json")
            #expect(try Self.items(after)["database_live"]?.first?.detail.contains("tables are not there yet") == false)

            let port = try refusingLocalPort()
            let refused = try await CommandLineRunner(directory: directory, environment: ["PAPERPOST_DB": "postgres://paperpost:hunter2@127.0.0.1:\(port)/paperpost"])
                .run("check", "--live", "--format", "json")
            let failed = try #require(try Self.items(refused)["database_live"]?.first, "\(refused.stdout) \(refused.stderr)")
            #expect(failed.level == "fail" && failed.detail.contains("cannot connect to postgres://paperpost:***@127.0.0.1:\(port)/paperpost"), "\(failed.detail)")
            #expect(!refused.stdout.contains("hunter2"))
        }
    }
}
