import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// `paperpost serve` as an operator runs it: a process that logs its requests and stops on SIGTERM.
@Suite("paperpost serve")
struct ServeCommandTests {
    func get(_ url: URL) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test("serve logs one line per request without the link's token, and exits 0 on SIGTERM")
    func logsAndStops() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await ServeProcess(
                executable: CommandLineRunner.executable, directory: directory,
                environment: ["PAPERPOST_TEMPLATES": CurateCommandTests.templates, "PAPERPOST_SECRET": "serve-test-secret-at-least-32-bytes"])
            let base = server.baseURL
            let health = try await get(try #require(URL(string: "\(base)/healthz")))
            #expect(health.0 == 200 && health.1 == "ok\n")
            let secretToken = "u.1.0.c2VjcmV0LXRva2VuLXZhbHVlLW5vdC1pbi1sb2dz"
            #expect(try await get(try #require(URL(string: "\(base)/unsubscribe?token=\(secretToken)"))).0 == 400)

            #expect(try await server.terminate() == 0, "SIGTERM stops the server (within a minute, however busy the machine), with exit status 0")
            let log = server.log
            #expect(log.contains("path=/healthz") && log.contains("status=200"))
            #expect(log.contains("path=/unsubscribe") && log.contains("status=400"))
            #expect(!log.contains("c2VjcmV0LXRva2Vu"), "tokens never reach the log")
        }
    }
}
