import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// The promises kept when the request is not the one the happy path expects: one-click
/// unsubscribe in every encoding mail providers use, HEAD, and error pages.
@Suite("The web app: one-click encodings, HEAD, error pages")
struct FaultTests {
    /// A multipart body as `curl -F` writes it: each field a part, the boundary after two dashes.
    static func multipart(_ fields: [(String, String)], boundary: String) -> ByteBuffer {
        var body = ""
        for (name, value) in fields {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        return ByteBuffer(string: body + "--\(boundary)--\r\n")
    }

    static let curlBoundary = "------------------------d74496d66958873e"

    static func expectSecurityHeaders(_ headers: HTTPFields, _ what: String) {
        #expect(headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true, "\(what)")
        #expect(headers[.xContentTypeOptions] == "nosniff", "\(what)")
        #expect(headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(what)")
        #expect(headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(what)")
    }

    @Test("one-click unsubscribes whether the provider sends multipart (curl -F) or URL-encoded with a line break, percent-encoded or among other fields")
    func oneClickEncodings() async throws {
        try await withWebApp { world, client in
            let bodies: [(String, ByteBuffer)] = [
                ("multipart/form-data; boundary=\(Self.curlBoundary)", Self.multipart([("List-Unsubscribe", "One-Click")], boundary: Self.curlBoundary)),
                (
                    "multipart/form-data; charset=utf-8; Boundary=\"a b'c\"",
                    Self.multipart([("lang", "en"), ("List-Unsubscribe", "One-Click")], boundary: "a b'c")
                ),
                ("application/x-www-form-urlencoded", ByteBuffer(string: "List-Unsubscribe=One-Click\r\n")),
                ("application/x-www-form-urlencoded; charset=UTF-8", ByteBuffer(string: "List%2DUnsubscribe=One%2dClick")),
                ("application/x-www-form-urlencoded", ByteBuffer(string: "source=gmail&List-Unsubscribe=One-Click")),
            ]
            for (index, (contentType, body)) in bodies.enumerated() {
                let reader = try await world.store.add(
                    NewSubscriber(
                        email: try EmailAddress("reader\(index)@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .active),
                    source: .cli)
                let token = try await world.token(.unsubscribe, for: reader.id)
                try await client.execute(uri: "/unsubscribe?token=\(token)", method: .post, headers: [.contentType: contentType], body: body) {
                    #expect($0.status == .ok, "\(contentType)")
                    #expect(String(buffer: $0.body).contains("will not receive the ArXiv AI Daily again"), "\(contentType)")
                }
                #expect(try await world.subscriber("reader\(index)@example.com")?.status == .unsubscribed, "\(contentType)")
            }
        }
    }

    @Test("a multipart POST without the field, or with a missing, empty, overlong or wrong boundary, gets the 400 page and changes nothing")
    func oneClickRefused() async throws {
        try await withWebApp { world, client in
            let token = try await world.token(.unsubscribe)
            let oneClick = Self.multipart([("List-Unsubscribe", "One-Click")], boundary: Self.curlBoundary)
            let bodies: [(String, ByteBuffer)] = [
                ("multipart/form-data; boundary=\(Self.curlBoundary)", Self.multipart([("List-Unsubscribe", "Two-Click")], boundary: Self.curlBoundary)),
                ("multipart/form-data; boundary=\(Self.curlBoundary)", Self.multipart([("lang", "en")], boundary: Self.curlBoundary)),
                ("multipart/form-data; boundary=other", oneClick),
                ("multipart/form-data", oneClick),
                ("multipart/form-data; boundary=", oneClick),
                ("multipart/form-data; boundary=\"\"", oneClick),
                ("multipart/form-data; boundary=\(String(repeating: "x", count: 71))", oneClick),
                ("multipart/form-data; boundary=\(Self.curlBoundary)", ByteBuffer(string: "--\(Self.curlBoundary)\r\nno header end")),
                ("application/x-www-form-urlencoded", ByteBuffer(string: "List-Unsubscribe=One-Click-Please")),
            ]
            for (contentType, body) in bodies {
                try await client.execute(
                    uri: "/unsubscribe?token=\(token)&lang=en", method: .post, headers: [.contentType: contentType], body: body
                ) { response in
                    #expect(response.status == .badRequest, "\(contentType)")
                    #expect(String(buffer: response.body).contains("The request lacks List-Unsubscribe=One-Click."), "\(contentType)")
                }
            }
            #expect(try await world.subscriber("li.wei@example.com")?.status == .active)
            let li = try #require(try await world.subscriber("li.wei@example.com"))
            #expect(try await world.store.events(of: li).allSatisfy { $0.kind != .unsubscribed })
        }
    }

    @Test("HEAD answers wherever GET does, with the GET's status and headers and no body")
    func head() async throws {
        try await withWebApp { world, client in
            let token = try await world.token(.unsubscribe)
            let paths: [(String, HTTPResponse.Status)] = [
                ("/?lang=en", .ok), ("/archive", .ok), ("/archive/2026-02-20", .ok), ("/archive/2026-02-21", .notFound), ("/feed.xml", .ok),
                ("/healthz", .ok), ("/unsubscribe?token=\(token)", .ok), ("/unsubscribe?token=garbage", .badRequest),
                ("/preferences?token=\(try await world.token(.preferences))", .ok), ("/nowhere", .notFound),
            ]
            for (path, status) in paths {
                let get = try await client.execute(uri: path, method: .get) { $0 }
                #expect(get.status == status, "GET \(path)")
                try await client.execute(uri: path, method: .head) { head in
                    #expect(head.status == status, "HEAD \(path)")
                    #expect(head.body.readableBytes == 0, "\(path)")
                    #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
                    #expect(head.headers[.contentLength] == "\(get.body.readableBytes)", "\(path)")
                    Self.expectSecurityHeaders(head.headers, path)
                }
            }
            #expect(try await world.subscriber("li.wei@example.com")?.status == .active)
        }
    }

    @Test("an unknown address gets a 404 page with the security headers")
    func notFound() async throws {
        try await withWebApp { _, client in
            for (method, path) in [(HTTPRequest.Method.get, "/nowhere?lang=en"), (.post, "/archive?lang=en"), (.get, "/archive/x/y?lang=en")] {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == .notFound, "\(method) \(path)")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(String(buffer: response.body).contains("Page not found"), "\(method) \(path)")
                    Self.expectSecurityHeaders(response.headers, "\(method) \(path)")
                }
            }
        }
    }

    @Test("a body over the limit gets a 413 page with the security headers")
    func tooLarge() async throws {
        try await withWebApp { world, client in
            let body = ByteBuffer(string: "List-Unsubscribe=One-Click&x=" + String(repeating: "x", count: 20 * 1024))
            let token = try await world.token(.unsubscribe)
            for path in ["/unsubscribe?token=\(token)&lang=en", "/subscribe?lang=en"] {
                try await client.execute(uri: path, method: .post, headers: WebWorld.form, body: body) { response in
                    #expect(response.status == .contentTooLarge, "\(path)")
                    #expect(String(buffer: response.body).contains("larger than this site accepts"), "\(path)")
                    Self.expectSecurityHeaders(response.headers, path)
                }
            }
            #expect(try await world.subscriber("li.wei@example.com")?.status == .active)
        }
    }

    @Test("a database failure gets a 500 page with the security headers that does not show the error")
    func serverError() async throws {
        try await withWebApp { world, client in
            try runCommand([
                "python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE digest_entry'); c.execute('DROP TABLE digest'); c.commit()",
                world.settings.databasePath,
            ])
            for path in ["/archive?lang=en", "/?lang=en", "/feed.xml"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .internalServerError, "\(path)")
                    let page = String(buffer: response.body)
                    #expect(page.contains("Something went wrong"), "\(path)")
                    #expect(!page.contains("no such table"), "\(path)")
                    #expect(!page.lowercased().contains("sqlite") && !page.contains("database error"), "\(path)")
                    Self.expectSecurityHeaders(response.headers, path)
                }
            }
        }
    }
}
