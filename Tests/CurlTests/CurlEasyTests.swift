import CCurl
import Curl
import Foundation
import Testing
import TestSupport

@Suite("CurlEasy")
struct CurlEasyTests {
    @Test("An upload streams its body through the read callback, as SMTP will")
    func uploadThroughReadCallback() async throws {
        let server = try await LocalHTTPServer(routes: ["/put": [FixtureResponse(status: 201, text: "stored")]])
        defer { server.stop() }
        // Several read-callback rounds: curl asks for at most its upload buffer (64 KiB) at a time.
        let body = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let url = server.url("/put")

        // perform blocks its thread for the whole transfer, so not on the cooperative pool.
        let response = try await onOwnThread {
            Result { () throws(CurlError) -> CurlResponse in
                let easy = try CurlEasy()
                try easy.set(CURLOPT_URL, string: url)
                try easy.set(CURLOPT_HTTPHEADER, list: ["Content-Type: application/octet-stream", "Expect:"])
                try easy.setUploadBody(Array(body))
                return try easy.perform()
            }
        }.get()

        #expect(response.status == 201)
        #expect(String(decoding: response.body, as: UTF8.self) == "stored")
        let request = try #require(try await server.requests().first)
        #expect(request.method == "PUT")
        #expect(request.body == body)
        #expect(request.header("content-type") == "application/octet-stream")
    }

    @Test("A handle is clean again after perform, so options never leak between requests")
    func resetAfterPerform() async throws {
        let server = try await LocalHTTPServer(routes: ["/one": [FixtureResponse(text: "1")], "/two": [FixtureResponse(text: "2")]])
        defer { server.stop() }
        let first = server.url("/one")
        let second = server.url("/two")

        try await onOwnThread {
            Result { () throws(CurlError) in
                let easy = try CurlEasy()
                try easy.set(CURLOPT_URL, string: first)
                try easy.set(CURLOPT_HTTPHEADER, list: ["X-Only-Once: yes"])
                _ = try easy.perform()
                try easy.set(CURLOPT_URL, string: second)
                _ = try easy.perform()
            }
        }.get()

        let requests = try await server.requests()
        #expect(requests.map(\.path) == ["/one", "/two"])
        #expect(requests.map { $0.header("x-only-once") } == ["yes", nil])
    }

    @Test("The linked libcurl reports its version")
    func version() {
        #expect(CurlEasy.version.hasPrefix("libcurl/"))
    }
}
