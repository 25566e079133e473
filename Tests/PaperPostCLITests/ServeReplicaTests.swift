import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// Two `paperpost serve` processes on one database, as two replicas behind one load balancer.
@Suite("paperpost serve replicas")
struct ServeReplicaTests {
    /// A browser's session: no cookie store of its own, the CSRF cookie sent by hand.
    struct Visitor {
        let session: URLSession = {
            let configuration = URLSessionConfiguration.ephemeral
            configuration.httpShouldSetCookies = false
            configuration.httpCookieAcceptPolicy = .never
            return URLSession(configuration: configuration)
        }()
        var cookie = ""
        var csrf = ""

        /// Loads the sign-up page for its CSRF cookie and field.
        mutating func open(_ base: String) async throws {
            _ = try await load(base + "/?lang=en")
        }

        /// Loads a page with a form, keeping its CSRF cookie and field.
        mutating func load(_ url: some StringProtocol) async throws -> String {
            let (data, response) = try await session.data(from: try #require(URL(string: String(url))))
            let page = String(decoding: data, as: UTF8.self)
            let setCookie = try #require((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Set-Cookie"))
            cookie = String(setCookie.prefix { $0 != ";" })
            let field = try #require(page.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression))
            csrf = String(page[field].dropFirst(#"name="csrf" value=""#.count).dropLast())
            return page
        }

        /// Posts the form on the page `url` showed, with the CSRF field and `fields`.
        func post(_ url: some StringProtocol, _ fields: String) async throws -> (status: Int, page: String) {
            var request = URLRequest(url: try #require(URL(string: String(url))))
            request.httpMethod = "POST"
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.setValue(cookie, forHTTPHeaderField: "Cookie")
            request.httpBody = Data("csrf=\(csrf)\(fields.isEmpty ? "" : "&" + fields)".utf8)
            let (data, response) = try await session.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        func signUp(_ base: String, _ email: String, client: String) async throws -> Int {
            var request = URLRequest(url: try #require(URL(string: "\(base)/subscribe?lang=en")))
            request.httpMethod = "POST"
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.setValue(cookie, forHTTPHeaderField: "Cookie")
            request.setValue(client, forHTTPHeaderField: "X-Forwarded-For")
            let email = email.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? email
            request.httpBody = Data("email=\(email)&name=&language=en&category%5B%5D=cs.AI&csrf=\(csrf)".utf8)
            let (_, response) = try await session.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
    }

    @Test("the sign-up limits hold across two replicas on one database, and across a restart; a sign-up on one is confirmed and unsubscribed on the other", arguments: Backend.allCases)
    func limitsAcrossReplicas(backend: Backend) async throws {
        try await withTemporaryDirectory { directory in
            let database = backend == .sqlite ? directory.appendingPathComponent("paperpost.sqlite").path : try await TestPostgres.newDatabase()
            let environment = [
                "PAPERPOST_DB": database, "PAPERPOST_TEMPLATES": CurateCommandTests.templates,
                "PAPERPOST_SECRET": "replica-test-secret-at-least-32-bytes", "PAPERPOST_BASE_URL": "http://digest.example.org",
                "PAPERPOST_OUTBOX": directory.appendingPathComponent("outbox").path, "PAPERPOST_TRUST_PROXY": "true",
                "PAPERPOST_SUBSCRIBE_LIMIT_ADDRESS": "2", "PAPERPOST_SUBSCRIBE_LIMIT_CLIENT": "3",
            ]
            var replicas: [ServeProcess] = []
            for name in ["a", "b"] {
                let own = directory.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
                replicas.append(try await ServeProcess(executable: CommandLineRunner.executable, directory: own, environment: environment))
            }
            let (a, b) = (replicas[0].baseURL, replicas[1].baseURL)
            var visitor = Visitor()
            try await visitor.open(a)

            // Confirmation mails to one address: two allowed a day, wherever they are asked for.
            #expect(try await visitor.signUp(a, "target@example.com", client: "198.51.100.1") == 200)
            #expect(try await visitor.signUp(b, "target@example.com", client: "198.51.100.2") == 200)
            #expect(try await visitor.signUp(a, "target@example.com", client: "198.51.100.3") == 429)
            #expect(try await visitor.signUp(b, "target@example.com", client: "198.51.100.4") == 429)

            // Sign-ups from one client: three an hour across both replicas.
            #expect(try await visitor.signUp(b, "one@example.com", client: "192.0.2.7") == 200)
            #expect(try await visitor.signUp(a, "two@example.com", client: "192.0.2.7") == 200)
            #expect(try await visitor.signUp(b, "three@example.com", client: "192.0.2.7") == 200)
            #expect(try await visitor.signUp(a, "four@example.com", client: "192.0.2.7") == 429)

            // A restarted replica remembers.
            #expect(try await replicas[0].terminate() == 0)
            let restarted = try await ServeProcess(
                executable: CommandLineRunner.executable, directory: directory.appendingPathComponent("a"), environment: environment)
            #expect(try await visitor.signUp(restarted.baseURL, "five@example.com", client: "192.0.2.7") == 429)
            #expect(try await visitor.signUp(restarted.baseURL, "target@example.com", client: "203.0.113.9") == 429)

            // The confirmation one replica mailed is confirmed on the other, and the preferences
            // page of the first unsubscribes.
            #expect(try await visitor.signUp(restarted.baseURL, "cross@example.com", client: "203.0.113.10") == 200)
            let confirm = try #require(Self.link("confirm", mailedTo: "cross@example.com", outbox: directory.appendingPathComponent("outbox")))
            var phone = Visitor()
            _ = try await phone.load(b + confirm)
            let confirmed = try await phone.post(b + confirm, "")
            #expect(confirmed.status == 200)
            let cli = CommandLineRunner(directory: directory, environment: environment)
            #expect(try await Self.subscriber("cross@example.com", cli)["status"] as? String == "active")
            let preferences = try #require(confirmed.page.range(of: #"/preferences\?token=[A-Za-z0-9._-]+"#, options: .regularExpression))
            _ = try await phone.load(restarted.baseURL + confirmed.page[preferences])
            #expect(try await phone.post(restarted.baseURL + confirmed.page[preferences], "action=unsubscribe").status == 200)
            let shown = try await Self.subscriber("cross@example.com", cli)
            #expect(shown["status"] as? String == "unsubscribed")
            let events = (shown["events"] as? [[String: Any]] ?? []).map { "\($0["event"] ?? "") \($0["source"] ?? "")" }
            #expect(events == ["added web", "confirmed web", "unsubscribed web"])
            #expect(try await restarted.terminate() == 0)
            #expect(try await replicas[1].terminate() == 0)
        }
    }

    /// The path and query of the `path` link in the notice the outbox holds for `address` (its
    /// HTML preview, which is not quoted-printable).
    static func link(_ path: String, mailedTo address: String, outbox: URL) -> String? {
        let files = FileManager.default.enumerator(at: outbox, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files where file.lastPathComponent.hasPrefix(address) && file.pathExtension == "html" {
            guard let html = try? String(contentsOf: file, encoding: .utf8),
                let range = html.range(of: "/\(path)\\?token=[A-Za-z0-9._-]+", options: .regularExpression)
            else { continue }
            return String(html[range])
        }
        return nil
    }

    /// `subscribers show --format json` of one address: the store as the CLI reads it.
    static func subscriber(_ address: String, _ cli: CommandLineRunner) async throws -> [String: Any] {
        let result = try await cli.run("subscribers", "show", address, "--format", "json")
        try #require(result.status == 0, "\(result.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        return try #require(rows?.first, "\(result.stdout)")
    }
}
