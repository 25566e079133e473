import Curl
import Foundation
import Testing
import TestSupport

@Suite("LocalHTTPServer")
struct LocalHTTPServerTests {
    @Test("A server whose routes cannot be loaded fails to start instead of hanging")
    func badRoutesFailFast() async throws {
        let missing = URL(fileURLWithPath: "/nonexistent/\(UUID().uuidString).bin")
        await #expect(throws: LocalHTTPServerError.self) {
            let server = try await LocalHTTPServer(routes: ["/x": [FixtureResponse(body: .file(missing))]])
            server.stop()
        }
    }

    @Test("Routes match path and query exactly first, then the path alone; the last response repeats")
    func routeMatching() async throws {
        let server = try await LocalHTTPServer(routes: [
            "/api/query?id_list=1234.5678": [FixtureResponse(text: "exact")],
            "/api/query": [FixtureResponse(text: "first"), FixtureResponse(text: "then always")],
        ])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .none)
        var bodies: [String] = []
        for path in ["/api/query?id_list=1234.5678", "/api/query?search=x", "/api/query", "/api/query?id_list=1234.5678", "/api/query"] {
            let response = try await client.send(HTTPRequest(url: server.url(path)))
            bodies.append(String(decoding: response.body, as: UTF8.self))
        }

        #expect(bodies == ["exact", "first", "then always", "exact", "then always"])
        let recorded = try await server.requests()
        #expect(recorded.map(\.path) == ["/api/query?id_list=1234.5678", "/api/query?search=x", "/api/query", "/api/query?id_list=1234.5678", "/api/query"])
        #expect(zip(recorded, recorded.dropFirst()).allSatisfy { $0.arrival <= $1.arrival })
    }

    @Test("A held response waits for its barrier: too few requests waiting together get a 504 saying how many there were")
    func barrierNotReached() async throws {
        let server = try await LocalHTTPServer(routes: [
            "/together": [FixtureResponse(text: "ok", holdUntilWaiting: 2, holdTimeoutSeconds: 1)]
        ])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .none)

        let error = try #require(await failure(of: HTTPRequest(url: server.url("/together")), with: client))

        guard case .status(_, let status, _, _, let response) = error else {
            Issue.record("expected .status, got \(error)")
            return
        }
        #expect(status == 504)
        #expect(String(decoding: response.body, as: UTF8.self) == "held 1 s for 2 requests waiting at once, but at most 1 were\n")
    }

    @Test("Waiting for requests returns them once they have arrived, and gives up naming how many came")
    func waitForRequests() async throws {
        let server = try await LocalHTTPServer(routes: ["/a": [FixtureResponse(text: "a")]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .none)

        await #expect {
            try await server.waitForRequests(1, timeout: .milliseconds(100))
        } throws: { error in
            "\(error)" == "fixture_http_server.py received 0 of the 1 request(s) waited for within 0.1 seconds"
        }
        async let sent = client.send(HTTPRequest(url: server.url("/a?late")))
        let arrived = try await server.waitForRequests(1)
        #expect(arrived.map(\.path) == ["/a?late"])
        #expect(try await sent.status == 200)
    }
}
