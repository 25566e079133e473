import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import PaperPostCore
import PaperPostStore
import Rendering
import struct Crypto.SymmetricKey

/// The web app, built from a value so that tests build it directly.
///
/// - Throws: ``RenderingError`` when the page templates cannot be loaded.
public func buildApplication(settings: Settings, database: PaperPostDatabase, host: String, port: Int) async throws -> some ApplicationProtocol {
    let site = try await Site(settings: settings, database: database)
    let router = Router()
    router.add(middleware: SecurityHeaders())
    router.get("healthz") { _, _ in "ok\n" }
    router.get("unsubscribe") { request, _ in try await site.unsubscribePage(request) }
    router.post("unsubscribe") { request, _ in try await site.unsubscribe(request) }
    router.get("archive") { request, _ in try await site.archive(request) }
    router.get("archive/:day") { request, context in try await site.edition(request, day: context.parameters.get("day") ?? "") }
    router.get("feed.xml") { _, _ in try await site.feed() }
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil))
}

/// Every page's headers: no scripts, no framing, no referrer, no sniffing.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return response
    }
}

/// The pages, in Chinese or English (`?lang=`, else `Accept-Language`).
struct Site: Sendable {
    let settings: Settings
    let subscribers: SubscriberStore
    let curation: CurationStore
    let secret: SymmetricKey
    let templates: MustacheLibrary
    let markdown: DigestMarkdown

    init(settings: Settings, database: PaperPostDatabase) async throws {
        self.settings = settings
        subscribers = SubscriberStore(database: database, settings: settings)
        curation = CurationStore(database: database)
        secret = try ServerSecret.load(settings)
        let directory = URL(fileURLWithPath: settings.templatesDirectory).appendingPathComponent("web").path
        do {
            templates = try await MustacheLibrary(directory: directory)
        } catch {
            throw RenderingError.template("cannot use the page templates in '\(directory)': \(error)")
        }
        markdown = try DigestMarkdown(templatesDirectory: settings.templatesDirectory)
    }

    // MARK: Unsubscribe (RFC 8058)

    /// A GET only shows a button: mail scanners follow every link in a message and must not
    /// unsubscribe anyone.
    func unsubscribePage(_ request: Request) async throws -> Response {
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        guard let identity = try await verify(token) else { return invalidLink(Self.language(request)) }
        let language = Self.language(request, reader: identity.language)
        let text = WebText.for(language)
        return page(language, title: text.unsubscribeTitle, template: "unsubscribe", status: .ok, context: [
            "heading": text.unsubscribeTitle, "message": text.unsubscribeQuestion(Self.masked(identity.email)),
            "form": true, "token": token, "lang": language.rawValue, "button": text.unsubscribeButton,
        ])
    }

    /// The one-click POST as mail providers send it (`List-Unsubscribe=One-Click`, the token in
    /// the URL, no cookies), and the button's POST: unsubscribes at once, idempotently.
    func unsubscribe(_ request: Request) async throws -> Response {
        var language = Self.language(request)
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 16 * 1024))
        guard body.split(separator: "&").contains("List-Unsubscribe=One-Click") else {
            let text = WebText.for(language)
            return page(language, title: text.invalidTitle, template: "unsubscribe", status: .badRequest, context: [
                "heading": text.invalidTitle, "message": text.missingOneClick,
            ])
        }
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        guard let identity = try await verify(token) else { return invalidLink(language) }
        language = Self.language(request, reader: identity.language)
        try await subscribers.unsubscribe(id: identity.id, source: .link)
        let text = WebText.for(language)
        return page(language, title: text.doneTitle, template: "unsubscribe", status: .ok, context: [
            "heading": text.doneTitle, "message": text.done(Self.masked(identity.email)),
        ])
    }

    /// The subscriber a valid unsubscribe token names, or `nil` for any invalid token (the page
    /// never says which check failed).
    private func verify(_ token: String) async throws -> (id: Int64, email: String?, language: Language)? {
        guard let claims = LinkToken(unverified: token), claims.purpose == .unsubscribe,
            let identity = try await subscribers.linkIdentity(id: claims.subscriberID),
            (try? LinkToken.verify(token, purpose: .unsubscribe, serverSecret: secret, subscriberSecret: identity.secret)) != nil
        else { return nil }
        return (claims.subscriberID, identity.email, identity.language)
    }

    private func invalidLink(_ language: Language) -> Response {
        let text = WebText.for(language)
        return page(language, title: text.invalidTitle, template: "unsubscribe", status: .badRequest, context: [
            "heading": text.invalidTitle, "message": text.invalidMessage,
        ])
    }

    // MARK: Archive

    func archive(_ request: Request) async throws -> Response {
        let language = Self.language(request)
        let text = WebText.for(language)
        let days = try await curation.digestDays().map { ["day": $0.description] }
        return page(language, title: text.archiveTitle, template: "archive", status: .ok, context: [
            "heading": text.archiveTitle, "days": days, "lang": language.rawValue, "empty": text.archiveEmpty,
        ])
    }

    func edition(_ request: Request, day text: String) async throws -> Response {
        let language = Self.language(request)
        let labels = WebText.for(language)
        guard let day = try? Day(parsing: text), let digest = try await curation.digest(on: day) else {
            return page(language, title: labels.notFoundTitle, template: "unsubscribe", status: .notFound, context: [
                "heading": labels.notFoundTitle, "message": labels.notFoundMessage,
            ])
        }
        return page(language, title: "\(day)", content: Markdown.html(markdown.render(digest, language: language)), status: .ok)
    }

    /// An Atom feed of the editions, newest first, for feed readers.
    func feed() async throws -> Response {
        var entries: [[String: String]] = []
        var newest: Date?
        for day in try await curation.digestDays(limit: 30) {
            guard let digest = try await curation.digest(on: day) else { continue }
            newest = max(newest ?? digest.createdAt, digest.createdAt)
            entries.append([
                "day": day.description, "title": "ArXiv AI Daily \(day)", "updated": digest.createdAt.formatted(.iso8601),
                "summary": digest.picks.map(\.paper.title).joined(separator: " · "),
            ])
        }
        let xml = templates.render(
            ["base": settings.baseURL, "updated": (newest ?? Date()).formatted(.iso8601), "entries": entries], withTemplate: "feed.xml") ?? ""
        return Response(
            status: .ok, headers: [.contentType: "application/atom+xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: xml)))
    }

    // MARK: Pages

    private func page(_ language: Language, title: String, template: String, status: HTTPResponse.Status, context: [String: Any]) -> Response {
        page(language, title: title, content: templates.render(context, withTemplate: template) ?? "", status: status)
    }

    private func page(_ language: Language, title: String, content: String, status: HTTPResponse.Status) -> Response {
        let html = templates.render(
            ["lang": language.rawValue, "title": title, "content": content, "archive_label": WebText.for(language).archiveTitle],
            withTemplate: "page") ?? content
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// `?lang=`, else the reader's own language when a link names them, else `Accept-Language`.
    static func language(_ request: Request, reader: Language? = nil) -> Language {
        if let lang = request.uri.queryParameters["lang"], let language = Language(rawValue: String(lang)) {
            return language
        }
        if let reader { return reader }
        let accept = request.headers[.acceptLanguage]?.lowercased() ?? ""
        return accept.hasPrefix("zh") ? .zh : .en
    }

    /// `li***@example.com`: enough for the person to recognise, not enough to harvest.
    static func masked(_ email: String?) -> String {
        guard let email, let at = email.firstIndex(of: "@") else { return "" }
        return String(email[..<at].prefix(2)) + "***" + String(email[at...])
    }
}

/// The words on the pages.
struct WebText {
    var unsubscribeTitle: String
    var unsubscribeButton: String
    var unsubscribeQuestion: (String) -> String
    var doneTitle: String
    var done: (String) -> String
    var invalidTitle: String
    var invalidMessage: String
    var missingOneClick: String
    var archiveTitle: String
    var archiveEmpty: String
    var notFoundTitle: String
    var notFoundMessage: String

    static func `for`(_ language: Language) -> WebText {
        switch language {
        case .zh:
            WebText(
                unsubscribeTitle: "退订 ArXiv AI 日报", unsubscribeButton: "确认退订",
                unsubscribeQuestion: { "要让 \($0) 不再收到 ArXiv AI 日报吗？" },
                doneTitle: "已退订", done: { "\($0) 不会再收到 ArXiv AI 日报。" },
                invalidTitle: "链接无效", invalidMessage: "这个链接无效或已失效。请使用最近一封邮件中的链接。",
                missingOneClick: "请求缺少 List-Unsubscribe=One-Click。", archiveTitle: "往期日报", archiveEmpty: "还没有日报。",
                notFoundTitle: "没有这一期", notFoundMessage: "这一天没有日报。")
        case .en:
            WebText(
                unsubscribeTitle: "Unsubscribe from the ArXiv AI Daily", unsubscribeButton: "Unsubscribe",
                unsubscribeQuestion: { "Stop sending the ArXiv AI Daily to \($0)?" },
                doneTitle: "You are unsubscribed", done: { "\($0) will not receive the ArXiv AI Daily again." },
                invalidTitle: "This link is not valid", invalidMessage: "This link is not valid or no longer works. Please use the link in a recent email.",
                missingOneClick: "The request lacks List-Unsubscribe=One-Click.", archiveTitle: "Past editions",
                archiveEmpty: "No editions yet.", notFoundTitle: "No such edition", notFoundMessage: "There is no digest for that day.")
        }
    }
}
