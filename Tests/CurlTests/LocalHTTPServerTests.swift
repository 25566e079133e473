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
}
