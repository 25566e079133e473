import Curl
import Foundation
import Testing
import TestSupport

@Suite("HTTPClient against a local server")
struct HTTPClientTests {
    @Test("A 200 GET returns its status, headers and body")
    func plainGet() async throws {
        let server = try await LocalHTTPServer(routes: [
            "/hello": [
                FixtureResponse(
                    headers: [("Content-Type", "text/plain; charset=utf-8"), ("X-Dup", "first"), ("X-Dup", "second")],
                    text: "hello, world"
                )
            ]
        ])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        let response = try await client.send(HTTPRequest(url: server.url("/hello")))

        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello, world")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(response.header("x-dup") == "second")
        #expect(response.header("SERVER") == "PaperPostFixture/1.0")
        #expect(response.url == server.url("/hello"))
        let requests = try await server.requests()
        #expect(requests.map(\.method) == ["GET"])
        #expect(requests.map(\.path) == ["/hello"])
    }

    @Test("A POST delivers its body and headers to the server")
    func postWithBody() async throws {
        let server = try await LocalHTTPServer(routes: ["/submit": [FixtureResponse(status: 201, text: "created")]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)
        // Large and binary on purpose: past curl's Expect: 100-continue threshold, with NUL bytes.
        let body = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0) })

        let response = try await client.send(
            HTTPRequest(
                method: .post,
                url: server.url("/submit?mode=test"),
                headers: [("Content-Type", "application/octet-stream"), ("X-Request-Id", "abc-123"), ("X-Empty", "")],
                body: body
            )
        )

        #expect(response.status == 201)
        let request = try #require(try await server.requests().first)
        #expect(request.method == "POST")
        #expect(request.path == "/submit?mode=test")
        #expect(request.body == body)
        #expect(request.header("content-type") == "application/octet-stream")
        #expect(request.header("x-request-id") == "abc-123")
        #expect(request.header("x-empty") == "")
        #expect(request.header("expect") == nil)
    }

    @Test("The configured User-Agent and an Accept-Encoding are sent")
    func userAgentSent() async throws {
        let server = try await LocalHTTPServer(routes: ["/ua": [FixtureResponse(text: "ok")]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        _ = try await client.send(HTTPRequest(url: server.url("/ua")))

        let request = try #require(try await server.requests().first)
        #expect(request.header("User-Agent") == testUserAgent)
        #expect(request.header("Accept-Encoding")?.contains("gzip") == true)
    }

    @Test("A gzip-compressed response body arrives decoded")
    func gzipDecoded() async throws {
        let directory = try TemporaryDirectory.make(prefix: "curl-gzip")
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = String(repeating: "<entry><title>Attention is all you need</title></entry>\n", count: 200)
        let plain = directory.appendingPathComponent("feed.xml")
        try Data(original.utf8).write(to: plain)
        try runCommand(["gzip", "-9", "-n", "-k", plain.path])
        let compressed = directory.appendingPathComponent("feed.xml.gz")
        let compressedSize = try #require(try FileManager.default.attributesOfItem(atPath: compressed.path)[.size] as? Int)
        #expect(compressedSize < original.utf8.count / 10)

        let server = try await LocalHTTPServer(routes: [
            "/feed": [
                FixtureResponse(
                    headers: [("Content-Type", "application/atom+xml"), ("Content-Encoding", "gzip")],
                    body: .file(compressed)
                )
            ]
        ])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        let response = try await client.send(HTTPRequest(url: server.url("/feed")))

        #expect(String(decoding: response.body, as: UTF8.self) == original)
        #expect(response.header("content-encoding") == "gzip")
    }

    @Test("A 503 with Retry-After: 1 is retried after about a second and then succeeds", .timeLimit(.minutes(2)))
    func retryAfterHonoured() async throws {
        let server = try await LocalHTTPServer(routes: [
            "/busy": [
                FixtureResponse(status: 503, headers: [("Retry-After", "1")], text: "busy"),
                FixtureResponse(text: "done"),
            ]
        ])
        defer { server.stop() }
        // The two wrong waits are far from a second either way: the jitter (at most 10 ms) if
        // Retry-After were ignored, maxDelay (5 minutes) if it were misread as too long. So only
        // a lower bound is tight, and the upper one can leave a loaded machine a minute of slack.
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .seconds(300))
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: policy)
        let start = ContinuousClock.now

        let response = try await client.send(HTTPRequest(url: server.url("/busy")))

        #expect(String(decoding: response.body, as: UTF8.self) == "done")
        #expect(seconds(since: start) >= 0.95)
        let requests = try await server.requests()
        try #require(requests.count == 2)
        #expect(requests[1].arrival - requests[0].arrival >= 0.95)
        #expect(requests[1].arrival - requests[0].arrival < 60)
    }

    @Test("A 429 is retried and the second answer is returned")
    func tooManyRequestsRetried() async throws {
        let server = try await LocalHTTPServer(routes: [
            "/limited": [FixtureResponse(status: 429, text: "slow down"), FixtureResponse(text: "fine")]
        ])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        let response = try await client.send(HTTPRequest(url: server.url("/limited")))

        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "fine")
        #expect(try await server.requests().count == 2)
    }

    @Test("A persistent 500 throws .status after maxAttempts, naming the URL and the Server header")
    func persistentServerError() async throws {
        let server = try await LocalHTTPServer(routes: [
            "/broken": [FixtureResponse(status: 500, headers: [("Server", "TestServer/2.0")], text: "database on fire")]
        ])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)
        let url = server.url("/broken")

        let error = try #require(await failure(of: HTTPRequest(url: url), with: client))

        guard case .status(let errorURL, let status, let serverName, let attempts, let last) = error else {
            Issue.record("expected .status, got \(error)")
            return
        }
        #expect(errorURL == url)
        #expect(status == 500)
        #expect(serverName == "TestServer/2.0")
        #expect(attempts == 3)
        #expect(String(decoding: last.body, as: UTF8.self) == "database on fire")
        #expect(try await server.requests().count == 3)
        #expect(error.description.contains(url))
        #expect(error.description.contains("HTTP 500"))
        #expect(error.description.contains("TestServer/2.0"))
        #expect(error.description.contains("3 attempts"))
        #expect(error.description.contains("database on fire"))
    }

    @Test("A 404 throws .status at once, without retrying")
    func notFoundNotRetried() async throws {
        let server = try await LocalHTTPServer(routes: ["/known": [FixtureResponse(text: "here")]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)
        let url = server.url("/missing")

        let error = try #require(await failure(of: HTTPRequest(url: url), with: client))

        guard case .status(_, let status, _, let attempts, _) = error else {
            Issue.record("expected .status, got \(error)")
            return
        }
        #expect(status == 404)
        #expect(attempts == 1)
        #expect(try await server.requests().count == 1)
    }

    @Test("A refused connection throws .transport naming the URL, after retrying")
    func connectionRefused() async throws {
        let closed = try await LocalHTTPServer(routes: [:])
        closed.stop()
        let url = closed.url("/nobody-home")
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10)))

        let error = try #require(await failure(of: HTTPRequest(url: url), with: client))

        guard case .transport(let errorURL, let code, let message, let attempts) = error else {
            Issue.record("expected .transport, got \(error)")
            return
        }
        #expect(errorURL == url)
        #expect(code == 7)
        #expect(!message.isEmpty)
        #expect(attempts == 2)
        #expect(error.description.contains(url))
    }

    @Test("A response slower than the total timeout throws .transport", .timeLimit(.minutes(2)))
    func totalTimeout() async throws {
        // Five minutes late: ending within a minute proves the 300 ms timeout cut it short,
        // whatever else the machine is doing.
        let server = try await LocalHTTPServer(routes: ["/slow": [FixtureResponse(text: "late", delaySeconds: 300)]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .none)
        let start = ContinuousClock.now

        let error = try #require(
            await failure(of: HTTPRequest(url: server.url("/slow"), totalTimeout: .milliseconds(300)), with: client)
        )

        guard case .transport(_, let code, _, let attempts) = error else {
            Issue.record("expected .transport, got \(error)")
            return
        }
        #expect(code == 28)
        #expect(attempts == 1)
        #expect(seconds(since: start) < 60)
    }

    @Test("A dropped connection is retried like any transport failure")
    func droppedConnectionRetried() async throws {
        let server = try await LocalHTTPServer(routes: [
            "/flaky": [.dropConnection, FixtureResponse(text: "recovered")]
        ])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        let response = try await client.send(HTTPRequest(url: server.url("/flaky")))

        #expect(String(decoding: response.body, as: UTF8.self) == "recovered")
        #expect(try await server.requests().count == 2)
    }

    @Test("Five redirects are followed and the final URL is reported")
    func redirectsFollowed() async throws {
        var routes: [String: [FixtureResponse]] = ["/hop5": [FixtureResponse(text: "arrived")]]
        for hop in 0..<5 {
            routes["/hop\(hop)"] = [.redirect(to: "/hop\(hop + 1)", status: hop == 0 ? 301 : 302)]
        }
        let server = try await LocalHTTPServer(routes: routes)
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        let response = try await client.send(HTTPRequest(url: server.url("/hop0")))

        #expect(String(decoding: response.body, as: UTF8.self) == "arrived")
        #expect(response.url == server.url("/hop5"))
        #expect(response.header("location") == nil)
        #expect(try await server.requests().map(\.path) == (0...5).map { "/hop\($0)" })
    }

    @Test("A sixth redirect throws .transport without retrying")
    func tooManyRedirects() async throws {
        var routes: [String: [FixtureResponse]] = ["/hop6": [FixtureResponse(text: "too far")]]
        for hop in 0..<6 {
            routes["/hop\(hop)"] = [.redirect(to: "/hop\(hop + 1)")]
        }
        let server = try await LocalHTTPServer(routes: routes)
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        let error = try #require(await failure(of: HTTPRequest(url: server.url("/hop0")), with: client))

        guard case .transport(_, let code, _, let attempts) = error else {
            Issue.record("expected .transport, got \(error)")
            return
        }
        #expect(code == 47)
        #expect(attempts == 1)
        #expect(try await server.requests().count == 6)
    }

    @Test("A redirect to a non-HTTP scheme is refused")
    func redirectToOtherScheme() async throws {
        let server = try await LocalHTTPServer(routes: ["/away": [.redirect(to: "ftp://127.0.0.1:9/file")]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        let error = try #require(await failure(of: HTTPRequest(url: server.url("/away")), with: client))

        guard case .transport(_, let code, _, _) = error else {
            Issue.record("expected .transport, got \(error)")
            return
        }
        #expect(code == 1)
    }

    @Test("A Retry-After longer than maxDelay is capped at maxDelay")
    func retryAfterCapped() async throws {
        let server = try await LocalHTTPServer(routes: [
            "/later": [FixtureResponse(status: 503, headers: [("Retry-After", "3600")]), FixtureResponse(text: "now")]
        ])
        defer { server.stop() }
        let recorder = SleepRecorder()
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(250))
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: policy, sleep: recorder.sleep)

        let response = try await client.send(HTTPRequest(url: server.url("/later")))

        #expect(response.status == 200)
        #expect(recorder.recorded == [.milliseconds(250)])
    }

    @Test("Sixteen concurrent sends all complete, in parallel")
    func concurrentSends() async throws {
        // No answer until all sixteen requests wait at the server together: sends made one at a
        // time, or two at a time (one per core, had the cooperative pool been blocked), would
        // each get a 504 after a minute instead.
        let server = try await LocalHTTPServer(routes: ["/together": [FixtureResponse(text: "ok", holdUntilWaiting: 16)]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .none)

        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let response = try await client.send(HTTPRequest(url: server.url("/together?n=\(index)")))
                    return String(decoding: response.body, as: UTF8.self)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }

        #expect(bodies == Array(repeating: "ok", count: 16))
        let paths = try await server.requests().map(\.path)
        #expect(Set(paths) == Set((0..<16).map { "/together?n=\($0)" }))
        #expect(paths.count == 16)
    }

    @Test("Sequential requests reuse one connection")
    func keepAlive() async throws {
        let server = try await LocalHTTPServer(routes: ["/a": [FixtureResponse(text: "a")], "/b": [FixtureResponse(text: "b")]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        _ = try await client.send(HTTPRequest(url: server.url("/a")))
        _ = try await client.send(HTTPRequest(url: server.url("/b")))

        let ports = try await server.requests().map(\.clientPort)
        #expect(ports.count == 2)
        #expect(Set(ports).count == 1)
    }

    @Test("Cancelling the calling task aborts a transfer that is still waiting")
    func cancellation() async throws {
        // The answer would take five minutes and the timeout a minute and a half, so only the
        // cancellation can end the transfer within the minute allowed (and with code 42).
        let server = try await LocalHTTPServer(routes: ["/forever": [FixtureResponse(text: "never", delaySeconds: 300)]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)
        let url = server.url("/forever")

        let task = Task { () async -> Result<HTTPResponse, HTTPError> in
            do throws(HTTPError) {
                return .success(try await client.send(HTTPRequest(url: url, totalTimeout: .seconds(90))))
            } catch {
                return .failure(error)
            }
        }
        // Cancelled only once the server holds the request: the transfer is under way, not yet to start.
        _ = try await server.waitForRequests(1)
        let cancelled = ContinuousClock.now
        task.cancel()
        let result = await task.value

        guard case .failure(.transport(_, let code, _, let attempts)) = result else {
            Issue.record("expected a .transport failure, got \(result)")
            return
        }
        #expect(code == 42)
        #expect(attempts == 1)
        #expect(seconds(since: cancelled) < 60)
        #expect(try await server.requests().count == 1)
    }

    @Test("A header value with a line break is rejected before anything is sent")
    func headerInjectionRejected() async throws {
        let server = try await LocalHTTPServer(routes: ["/h": [FixtureResponse(text: "ok")]])
        defer { server.stop() }
        let client = HTTPClient(userAgent: testUserAgent, retryPolicy: .fast)

        let error = try #require(
            await failure(of: HTTPRequest(url: server.url("/h"), headers: [("X-Evil", "a\r\nHost: elsewhere")]), with: client)
        )

        guard case .transport(_, _, let message, let attempts) = error else {
            Issue.record("expected .transport, got \(error)")
            return
        }
        #expect(message.contains("X-Evil"))
        #expect(attempts == 1)
        #expect(try await server.requests().isEmpty)
    }
}
