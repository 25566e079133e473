import CCurl
import Curl
import Foundation
import Testing
import TestSupport

/// A server that never stops talking, or sends a small body that inflates to gigabytes, must cost
/// the client no more than its limit: these run against real sockets and real gzip data.
@Suite("HTTPClient's response size limit")
struct ResponseLimitTests {
    static let mebibyte = 1_048_576

    /// The error `send` throws, which must be `.tooLarge`; nil (with an issue recorded) otherwise.
    func tooLarge(_ error: HTTPError?) -> (url: String, limit: Int, received: Int, announced: Int?, attempts: Int)? {
        guard let error else { return nil }
        guard case .tooLarge(let url, let limit, let received, let announced, let attempts) = error else {
            Issue.record("expected .tooLarge, got \(error)")
            return nil
        }
        return (url, limit, received, announced, attempts)
    }

    @Test("An endless body is stopped just past the limit, once, with an error naming the URL, the limit and the setting")
    func endlessBody() async throws {
        let server = try await LocalHTTPServer(routes: ["/endless": [FixtureResponse(endless: true)]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast, maxBodyBytes: Self.mebibyte)
        let url = server.url("/endless")

        let error = await failure(of: HTTPRequest(url: url), with: client)

        let refused = try #require(tooLarge(error))
        #expect(refused.url == url)
        #expect(refused.limit == Self.mebibyte)
        // Stopped because the limit was reached, and right there: memory holds at most the limit.
        #expect(refused.received > Self.mebibyte)
        #expect(refused.received <= Self.mebibyte + 64 * 1024)
        #expect(refused.announced == nil)
        #expect(refused.attempts == 1)
        let message = try #require(error).description
        #expect(message.contains(url))
        #expect(message.contains("limit of 1048576 bytes (1 MiB)"))
        #expect(message.contains("raise PAPERPOST_HTTP_MAX_BYTES"))
        #expect(try await server.requests().count == 1)
    }

    @Test("A gzip bomb (1 GiB of zeros in about 1 MiB) is stopped at the default limit of decoded bytes")
    func gzipBomb() async throws {
        let server = try await LocalHTTPServer(routes: [
            "/bomb": [FixtureResponse(headers: [("Content-Encoding", "gzip")], body: .gzipOfZeros(1 << 30))]
        ])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        let error = await failure(of: HTTPRequest(url: server.url("/bomb")), with: client)

        let refused = try #require(tooLarge(error))
        #expect(HTTPClient.defaultMaxBodyBytes == 64 * Self.mebibyte)
        #expect(refused.limit == HTTPClient.defaultMaxBodyBytes)
        #expect(refused.received > refused.limit)
        #expect(refused.received <= refused.limit + Self.mebibyte)
        // What came over the wire was far below the limit: only the decoded count can have stopped it.
        let announced = try #require(refused.announced)
        #expect(announced < 2 * Self.mebibyte)
        #expect(refused.attempts == 1)
        #expect(try await server.requests().count == 1)
    }

    @Test("A Content-Length over the limit is refused before the body is read, and not retried")
    func announcedTooLarge() async throws {
        let server = try await LocalHTTPServer(routes: ["/big": [FixtureResponse(text: String(repeating: "a", count: 5000))]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast, maxBodyBytes: 1000)
        let url = server.url("/big")

        let error = await failure(of: HTTPRequest(url: url), with: client)

        let refused = try #require(tooLarge(error))
        #expect(refused.limit == 1000)
        #expect(refused.received == 0)
        #expect(refused.announced == 5000)
        #expect(try #require(error).description.contains("it announced 5000 bytes and was refused before reading it"))
        #expect(try await server.requests().count == 1)
    }

    @Test("A gzip body arrives decoded when its decoded size is within the limit, and is refused one byte over it")
    func gzipWithinLimit() async throws {
        let directory = try TemporaryDirectory.make(prefix: "curl-limit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = String(repeating: "<entry><title>Attention is all you need</title></entry>\n", count: 200)
        let plain = directory.appendingPathComponent("feed.xml")
        try Data(original.utf8).write(to: plain)
        try runCommand(["gzip", "-9", "-n", plain.path])
        let server = try await LocalHTTPServer(routes: [
            "/feed": [
                FixtureResponse(
                    headers: [("Content-Type", "application/atom+xml"), ("Content-Encoding", "gzip")],
                    body: .file(directory.appendingPathComponent("feed.xml.gz")))
            ]
        ])
        defer { server.stop() }
        let exact = HTTPClient(userAgent: testUserAgent, retryPolicy: .none, maxBodyBytes: original.utf8.count)
        let short = HTTPClient(userAgent: testUserAgent, retryPolicy: .none, maxBodyBytes: original.utf8.count - 1)

        let response = try await exact.send(HTTPRequest(url: server.url("/feed")))
        let error = await failure(of: HTTPRequest(url: server.url("/feed")), with: short)

        #expect(String(decoding: response.body, as: UTF8.self) == original)
        let refused = try #require(tooLarge(error))
        #expect(refused.received == original.utf8.count)
        #expect(try #require(refused.announced) < original.utf8.count / 10)
    }

    @Test("CurlEasy stops a transfer past maxBodyBytes with CURLE_FILESIZE_EXCEEDED and says how far it got")
    func curlEasyLimit() async throws {
        let server = try await LocalHTTPServer(routes: ["/endless": [FixtureResponse(body: .text("0123456789"), endless: true)]])
        defer { server.stop() }
        let url = server.url("/endless")

        let result = await onOwnThread {
            Result { () throws(CurlError) -> CurlResponse in
                let easy = try CurlEasy()
                try easy.set(CURLOPT_URL, string: url)
                return try easy.perform(maxBodyBytes: 100_000)
            }
        }

        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.code == Int(CURLE_FILESIZE_EXCEEDED.rawValue))
        let tooLarge = try #require(error.bodyTooLarge)
        #expect(tooLarge.limit == 100_000)
        #expect(tooLarge.received > 100_000 && tooLarge.received <= 100_000 + 64 * 1024)
        #expect(error.message.contains("limit of 100000 bytes"))
    }
}
