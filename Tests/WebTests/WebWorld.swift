import Curation
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Mail
import PaperPostCore
import PaperPostStore
import PostgresStore
import TestSupport
import Testing
import Web
import struct Crypto.SymmetricKey

/// A store with one active reader (李伟, cs.AI, Chinese) and one curated day, the web app over
/// live HTTP on 127.0.0.1, and a real SMTP server (aiosmtpd) that receives its notices. The
/// store is SQLite unless a test asks for PostgreSQL.
struct WebWorld: Sendable {
    static let templates = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path
    static let day = Day(year: 2026, month: 2, day: 20)!
    static let oneClick = ByteBuffer(string: "List-Unsubscribe=One-Click")
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
    static let serverSecret = SymmetricKey(data: Data("web-secret".utf8))

    var store: any SubscriberRegistry
    var editions: any EditionArchive
    var runs: any DailyRunLog
    var deliveries: any DeliveryLog
    /// The SQLite database, for the tests that reach behind the store.
    var sqlite: PaperPostDatabase?
    var settings: Settings
    var li: Subscriber
    var smtp: LocalSMTPServer

    func token(_ purpose: LinkToken.Purpose, for id: Int64? = nil, expires: Date? = nil, secret: String? = nil) async throws -> String {
        let id = id ?? li.id
        let identity = try #require(try await store.linkIdentity(id: id))
        return LinkToken(purpose: purpose, subscriberID: id, expires: expires)
            .signed(serverSecret: Self.serverSecret, subscriberSecret: secret ?? identity.secret)
    }

    func subscriber(_ email: String) async throws -> Subscriber? {
        try await store.find(try EmailAddress(email))
    }

    /// The notices aiosmtpd received for `address`, parsed by Python's `email` package.
    func mail(to address: String) async throws -> [InspectedMessage] {
        try await smtp.messages().filter { $0.rcptTos == [address] }.map { try InspectedMessage.inspect(Array($0.data)) }
    }
}

/// Runs `body` against a fresh world; `configure` adjusts the settings first (limits, lifetimes);
/// `papers` replaces the day's three papers (curated by the heuristic, as there is no API key).
func withWebApp(
    backend: Backend = .sqlite,
    configure: @Sendable (inout Settings) -> Void = { _ in },
    papers: [Paper]? = nil,
    _ body: @escaping @Sendable (WebWorld, any TestClientProtocol) async throws -> Void
) async throws {
    let smtp = try await LocalSMTPServer()
    defer { smtp.stop() }
    try await withTemporaryStore { store, _ in
        var settings = store.settings
        settings.templatesDirectory = WebWorld.templates
        settings.mail.secret = "web-secret"
        settings.mail.from = Mailbox(displayName: "PaperPost", address: try EmailAddress("digest@example.org"))
        settings.baseURL = "https://digest.example.org"
        settings.delivery = DeliverySettings(smtpURL: smtp.url, tls: .off)
        configure(&settings)
        let papers = (papers ?? (0..<3).map { number in
            Paper(id: "2602.0000\(number)", version: 1, title: "Paper \(number) | <b>bold</b>",
                  abstract: "Agents struggle. We propose a method. Experiments show gains.", authors: ["A"], categories: ["cs.AI"])
        }).map { AnnouncedPaper(paper: $0, announceType: .new) }
        let transport = try SMTPTransport(settings: settings.delivery, heloName: "digest.example.org")
        let run: @Sendable (WebStores, any CurationLedger, any DailyRunLog, any DeliveryLog, PaperPostDatabase?) async throws -> Void = {
            [settings] stores, ledger, runs, deliveries, sqlite in
            let li = try await stores.subscribers.add(
                NewSubscriber(email: try EmailAddress("li.wei@example.com"), name: "李伟", categories: ["cs.AI"], language: .zh, status: .active),
                source: .cli)
            _ = try await stores.papers.record(day: WebWorld.day, categories: ["cs.AI"], papers: papers, source: "test")
            _ = try await Curation(settings: settings, papers: stores.papers, ledger: ledger, subscribers: stores.subscribers)
                .run(CurationOptions(day: WebWorld.day))
            let app = try await buildApplication(settings: settings, stores: stores, transport: transport, host: "127.0.0.1", port: 0)
            let world = WebWorld(
                store: stores.subscribers, editions: stores.editions, runs: runs, deliveries: deliveries, sqlite: sqlite, settings: settings, li: li, smtp: smtp)
            try await app.test(.live) { client in
                try await body(world, client)
            }
        }
        switch backend {
        case .sqlite:
            let stores = try WebStores.sqlite(store.database, settings: settings)
            try await run(
                stores, CurationStore(database: store.database), DailyRunStore(database: store.database), DeliveryStore(database: store.database),
                store.database)
        case .postgres:
            try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: try await TestPostgres.newDatabase()), connections: 8) { database in
                let key = try await database.linkKey(settings)
                let stores = WebStores(
                    subscribers: PostgresSubscriberStore(database: database), editions: PostgresCurationStore(database: database),
                    papers: PostgresPaperStore(database: database), limits: PostgresRateLimitStore(database: database, serverSecret: key),
                    status: { try await NewsletterStatus.read(from: database) }, linkKey: key)
                try await run(
                    stores, PostgresCurationStore(database: database), PostgresDailyRunStore(database: database),
                    PostgresDeliveryStore(database: database), nil)
            }
        }
    }
}

/// A page as a browser sees it: status, headers, body, and the CSRF cookie and field a form
/// on it carries.
struct Page: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: String
    /// `paperpost_csrf=…`, as the next request's Cookie header.
    var cookie: String?

    var csrf: String? {
        guard let range = body.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression) else { return nil }
        return String(body[range].split(separator: "\"")[3])
    }
}

/// What a browser does: keeps the CSRF cookie it was given and sends forms URL-encoded.
struct Browser: Sendable {
    var client: any TestClientProtocol
    var cookie: String?

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    mutating func get(_ uri: String, headers: HTTPFields = [:]) async throws -> Page {
        try await send(uri, method: .get, headers: headers, body: nil)
    }

    mutating func post(_ uri: String, _ fields: [(String, String)], headers: HTTPFields = [:]) async throws -> Page {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await send(uri, method: .post, headers: headers, body: ByteBuffer(string: Self.encode(fields)))
    }

    static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
    }

    private mutating func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> Page {
        var headers = headers
        if let cookie { headers[.cookie] = cookie }
        let page = try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            let setCookie = response.headers[.setCookie].flatMap { $0.split(separator: ";").first.map(String.init) }
            return Page(status: response.status, headers: response.headers, body: String(buffer: response.body), cookie: setCookie)
        }
        if let set = page.cookie { cookie = set }
        return page
    }
}

extension String {
    /// The path and query of the first link to `https://digest.example.org` that has `path`.
    func link(_ path: String) -> String? {
        guard let range = range(of: #"https://digest\.example\.org/"# + path + #"\?token=[A-Za-z0-9._-]+"#, options: .regularExpression) else { return nil }
        return String(self[range].dropFirst("https://digest.example.org".count))
    }
}
