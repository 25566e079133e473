import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mail
import Mustache
import PaperPostCore
import PaperPostStore
import Rendering
import struct Crypto.SymmetricKey

/// The pages, in Chinese or English, and what they share: templates, the store, link tokens,
/// CSRF protection and the transport for notices. The flows live in extensions, one file each.
struct Site: Sendable {
    let settings: Settings
    let subscribers: any SubscriberRegistry
    let curation: any EditionArchive
    let papers: any PaperArchive
    let secret: SymmetricKey
    /// `secret`, then `PAPERPOST_SECRET_PREVIOUS`: what links are checked with.
    let verificationKeys: [SymmetricKey]
    let templates: MustacheLibrary
    let markdown: DigestMarkdown
    let notices: NoticeComposer
    /// Signs notices as `send` signs digests, when DKIM is configured.
    let signer: DKIMSigner?
    let transport: any MailTransport
    let csrf: CSRFProtection
    /// Sign-up limits, in the database so that every replica of the server keeps them.
    let limits: any RateLimiter
    /// Past editions and the feed, as rendered.
    let pages = PageCache()
    let logger = Logger(label: "paperpost.web")

    init(settings: Settings, stores: WebStores, transport: any MailTransport) async throws {
        self.settings = settings
        self.transport = transport
        subscribers = stores.subscribers
        curation = stores.editions
        papers = stores.papers
        secret = stores.linkKey
        verificationKeys = ServerSecret.verificationKeys(signing: stores.linkKey, settings)
        var library = MustacheLibrary()
        let files = settings.templates
        for name in files.names(in: "web") {
            do {
                try library.register(try files.text(name), named: String(name.dropFirst("web/".count).dropLast(".mustache".count)))
            } catch {
                throw RenderingError.template("cannot use the page template \(files.origin(name)): \(error)")
            }
        }
        templates = library
        markdown = try DigestMarkdown(templatesDirectory: settings.templatesDirectory)
        notices = try NoticeComposer(settings: settings)
        signer = try settings.mail.dkim.map { dkim throws(DKIMError) in try DKIMSigner(settings: dkim, from: settings.mail.from.address) }
        csrf = CSRFProtection(serverSecret: secret, baseURL: settings.baseURL)
        limits = stores.limits
    }

    // MARK: Links

    /// Why a link's token was refused. The page never says which check failed, except that an
    /// authentic link has merely expired, which tells its owner what to do.
    enum LinkProblem: Error {
        case invalid, expired
    }

    /// The subscriber a token for `purpose` names, after checking its signature and expiry.
    func holder(of token: String, _ purpose: LinkToken.Purpose) async throws -> Result<Subscriber, LinkProblem> {
        guard let claims = LinkToken(unverified: token), claims.purpose == purpose,
            let identity = try await subscribers.linkIdentity(id: claims.subscriberID)
        else { return .failure(.invalid) }
        do {
            _ = try LinkToken.verify(token, purpose: purpose, serverSecrets: verificationKeys, subscriberSecret: identity.secret)
        } catch .expired {
            return .failure(.expired)
        } catch {
            return .failure(.invalid)
        }
        return .success(identity.subscriber)
    }

    /// A signed link for a subscriber; confirmation links expire, the others work for years.
    func link(_ purpose: LinkToken.Purpose, for subscriber: Subscriber) async throws -> String {
        "\(settings.baseURL)/\(Self.path(of: purpose))?token=\(try await token(purpose, for: subscriber))"
    }

    func token(_ purpose: LinkToken.Purpose, for subscriber: Subscriber) async throws -> String {
        guard let identity = try await subscribers.linkIdentity(id: subscriber.id) else { throw LinkProblem.invalid }
        let expires = purpose == .confirm ? Date().addingTimeInterval(settings.web.confirmationLifetime.seconds) : nil
        return LinkToken(purpose: purpose, subscriberID: subscriber.id, expires: expires)
            .signed(serverSecret: secret, subscriberSecret: identity.secret)
    }

    static func path(of purpose: LinkToken.Purpose) -> String {
        switch purpose {
        case .confirm: "confirm"
        case .preferences: "preferences"
        case .unsubscribe: "unsubscribe"
        case .feedback: "feedback"
        }
    }

    static func token(_ request: Request) -> String {
        request.uri.queryParameters["token"].map(String.init) ?? ""
    }

    // MARK: Forms

    /// The posted form, or `nil` when it cannot be read (a field in the wrong shape): that is
    /// the client's mistake and gets a 400 page, while a body over the limit still gets 413.
    func formFields(_ request: Request, _ context: WebRequestContext) async throws -> FormFields? {
        do {
            return try await URLEncodedFormDecoder().decode(FormFields.self, from: request, context: context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            logger.notice("unreadable form", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            return nil
        }
    }

    func unreadableForm(_ language: Language) -> Response {
        let text = WebText.for(language)
        return message(language, heading: text.unreadableFormTitle, paragraphs: [text.unreadableForm], status: .badRequest)
    }

    // MARK: Mail

    /// Sends a notice through the configured transport.
    ///
    /// - Returns: whether the transport took it.
    func mail(_ notice: Notice, to subscriber: Subscriber) async -> Bool {
        guard let email = subscriber.email else { return false }
        let composed = notices.compose(notice, to: email, name: subscriber.name)
        let bytes: [UInt8]
        do {
            bytes = try signer.map { signer throws(DKIMError) in try signer.signed(composed.bytes) } ?? composed.bytes
        } catch {
            logger.error("notice not sent", metadata: ["subscriber": .stringConvertible(subscriber.id), "error": .string("\(error)")])
            return false
        }
        let today = Day.today(in: TimeZone(identifier: "UTC")!)
        // A notice's bounce names its subscriber too (VERP), so a mistyped address can be found.
        let envelopeSender = settings.delivery.bounceAddress.map { ReturnPath(day: today, subscriberID: subscriber.id).address(base: $0, key: secret) }
            ?? settings.mail.from.address.value
        let message = OutgoingMessage(
            day: today, envelopeSender: envelopeSender, recipient: email,
            messageID: composed.messageID, bytes: bytes, kind: "notice", preview: { composed.html })
        do {
            let result = await (try transport.makeLane()).send([message]).first
            if case .accepted = result {
                logger.info("notice sent", metadata: ["subscriber": .stringConvertible(subscriber.id), "subject": .string(notice.subject)])
                return true
            }
            logger.error("notice not sent", metadata: ["subscriber": .stringConvertible(subscriber.id), "result": .string("\(String(describing: result))")])
        } catch {
            logger.error("notice not sent", metadata: ["subscriber": .stringConvertible(subscriber.id), "error": .string("\(error)")])
        }
        return false
    }

    // MARK: Pages

    /// A page in the shared layout. A form page passes the CSRF nonce it used, and a new nonce
    /// is set as the cookie.
    func page(
        _ language: Language, title: String, template: String, context: [String: Any], status: HTTPResponse.Status = .ok,
        nonce: (value: String, isNew: Bool)? = nil
    ) -> Response {
        var response = page(language, title: title, content: templates.render(context, withTemplate: template) ?? "", status: status)
        if let nonce, nonce.isNew {
            response.setCookie(csrf.cookie(nonce.value))
        }
        return response
    }

    func page(_ language: Language, title: String, content: String, status: HTTPResponse.Status = .ok) -> Response {
        htmlResponse(pageHTML(language, title: title, content: content), status: status)
    }

    /// A page in the shared layout, as the bytes of its response body.
    func pageHTML(_ language: Language, title: String, content: String) -> ByteBuffer {
        let text = WebText.for(language)
        let html = templates.render(
            [
                "lang": language.rawValue, "title": title, "content": content, "home_label": text.homeLabel,
                "archive_label": text.archiveTitle,
            ],
            withTemplate: "page") ?? content
        return ByteBuffer(string: html)
    }

    func htmlResponse(_ body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: body))
    }

    /// A page with a heading, some paragraphs and optionally one button (a POST form).
    func message(
        _ language: Language, heading: String, paragraphs: [String], status: HTTPResponse.Status = .ok, button: [String: Any]? = nil,
        buttons: [[String: Any]] = [], subscribeForm: [String: Any]? = nil, linkForm: [String: Any]? = nil,
        nonce: (value: String, isNew: Bool)? = nil
    ) -> Response {
        var context: [String: Any] = ["heading": heading, "paragraphs": paragraphs]
        context["link_form"] = linkForm
        // The template repeats its form for each: one button, or several side by side.
        context["button"] = button.map { [$0] + buttons } ?? (buttons.isEmpty ? nil : buttons)
        context["subscribe"] = subscribeForm
        return page(language, title: heading, template: "message", context: context, status: status, nonce: nonce)
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

    /// The categories a form offers: the defaults, the usual neighbours of AI, and whatever the
    /// reader already has.
    func offeredCategories(including chosen: [String]) -> [String] {
        var codes = settings.defaultCategories
        for code in Self.neighbourCategories + chosen where !codes.contains(code) && ArxivCategory.named(code) != nil {
            codes.append(code)
        }
        return codes
    }

    static let neighbourCategories = ["cs.AI", "cs.CL", "cs.LG", "cs.CV", "cs.IR", "cs.MA", "cs.NE", "cs.RO", "cs.HC", "cs.CY", "cs.SE", "stat.ML"]

    func categoryChoices(_ chosen: [String], language: Language) -> [[String: Any]] {
        offeredCategories(including: chosen).map { code in
            ["code": code, "name": ArxivCategory.named(code)?.name(in: language) ?? code, "checked": chosen.contains(code)]
        }
    }

    static func languageChoices(_ chosen: Language, labels: WebText) -> [[String: Any]] {
        Language.allCases.map { ["code": $0.rawValue, "name": labels.languageName($0), "checked": $0 == chosen] }
    }
}

/// What the forms post; the fields a form lacks stay `nil`.
struct FormFields: Decodable {
    var csrf: String?
    var email: String?
    var name: String?
    var category: [String]?
    var language: String?
    var action: String?
    /// The preference page's interest boxes, one entry per line.
    var interests: String?
    var muted: String?
    var authors: String?
    /// `daily` or `weekly`, and for weekly the day (`mon` … `fri`).
    var schedule: String?
    var weekday: String?

    subscript(kind: ReaderInterests.Kind) -> String? {
        switch kind {
        case .interest: interests
        case .muted: muted
        case .author: authors
        }
    }
}
