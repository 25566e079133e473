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
            let (data, response) = try await session.data(from: try #require(URL(string: "\(base)/?lang=en")))
            let page = String(decoding: data, as: UTF8.self)
            let setCookie = try #require((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Set-Cookie"))
            cookie = String(setCookie.prefix { $0 != ";" })
            let field = try #require(page.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression))
            csrf = String(page[field].dropFirst(#"name="csrf" value=""#.count).dropLast())
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

    @Test("the sign-up limits hold across two replicas on one database, and across a restart")
    func limitsAcrossReplicas() async throws {
        try await withTemporaryDirectory { directory in
            let environment = [
                "PAPERPOST_DB": directory.appendingPathComponent("paperpost.sqlite").path, "PAPERPOST_TEMPLATES": CurateCommandTests.templates,
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
            #expect(try await restarted.terminate() == 0)
            #expect(try await replicas[1].terminate() == 0)
        }
    }
}
