import struct Crypto.SHA256
import struct Crypto.SymmetricKey
import Foundation
import Mustache
import PaperPostCore

/// One reader's email, ready for a transport.
public struct ComposedEmail: Sendable {
    public var messageID: String
    public var recipient: String
    /// The whole RFC 5322 message, CRLF line ends.
    public var bytes: [UInt8]
}

/// Turns a digest into one personal MIME message per reader.
///
/// Rendering is done once per distinct (categories, language) edition when the composer is
/// made; per message only the recipient's parts are added: the To header, the Message-ID, the
/// greeting and the signed links.
public struct EmailComposer: Sendable {
    struct EditionKey: Hashable, Sendable {
        var categories: [String]
        var language: Language
    }

    struct Edition: Sendable {
        var subject: String
        var text: SplicedBody
        var html: SplicedBody
        /// The HTML with slot markers, for previews.
        var htmlSource: String
        var boundary: String
    }

    let editions: [EditionKey: Edition]
    let settings: Settings
    let serverSecret: SymmetricKey
    let day: Day
    let fromHeader: String
    let listID: String

    /// Prepares the editions these recipients need.
    ///
    /// - Throws: ``RenderingError`` when a template is missing or broken.
    public init(digest: Digest, recipients: some Sequence<Recipient>, settings: Settings, serverSecret: SymmetricKey) throws(RenderingError) {
        let markdown = try DigestMarkdown(templatesDirectory: settings.templatesDirectory)
        let htmlTemplate = try RenderingError.loading(settings.templatesDirectory, "email.html.mustache")
        let textTemplate = try RenderingError.loading(settings.templatesDirectory, "email.txt.mustache")
        var editions: [EditionKey: Edition] = [:]
        for recipient in recipients {
            let key = EditionKey(categories: recipient.categories.sorted(), language: recipient.language)
            guard editions[key] == nil else { continue }
            let edition = digest.edition(for: key.categories)
            guard !edition.mustRead.isEmpty else { continue }
            editions[key] = Self.prepare(
                digest: digest, key: key, edition: edition, markdown: markdown, html: htmlTemplate, text: textTemplate,
                settings: settings)
        }
        self.editions = editions
        self.settings = settings
        self.serverSecret = serverSecret
        self.day = digest.day
        self.fromHeader = MIMEEncoding.mailbox(name: settings.mail.from.displayName, address: settings.mail.from.address.value)
        let host = URL(string: settings.baseURL)?.host ?? "localhost"
        self.listID = settings.mail.listID ?? "arxiv-digest.\(host)"
    }

    /// The number of distinct editions prepared.
    public var editionCount: Int { editions.count }

    /// Whether this reader has papers today (otherwise they get no email).
    public func hasEdition(for recipient: Recipient) -> Bool {
        editions[EditionKey(categories: recipient.categories.sorted(), language: recipient.language)] != nil
    }

    /// The reader's message, or `nil` when nothing in their categories was announced.
    ///
    /// - Parameter buffer: reused between calls to spare allocations; the message is returned
    ///   as a copy of it.
    public func compose(for recipient: Recipient, date: Date, buffer: inout [UInt8]) -> ComposedEmail? {
        guard let edition = editions[EditionKey(categories: recipient.categories.sorted(), language: recipient.language)] else {
            return nil
        }
        buffer.removeAll(keepingCapacity: true)
        let links = self.links(for: recipient)
        let messageID = "<\(day).\(recipient.subscriberID).\(Self.randomHex(8))@\(settings.mail.from.address.domain)>"
        var unsubscribeHeader = "<\(links.unsubscribe)>"
        if let mailto = settings.mail.unsubscribeMailto {
            let token = LinkToken(purpose: .unsubscribe, subscriberID: recipient.subscriberID)
                .signed(serverSecret: serverSecret, subscriberSecret: recipient.linkSecret)
            unsubscribeHeader += ",\r\n <mailto:\(mailto)?subject=unsubscribe%20\(token)>"
        }
        let headers = [
            "From: \(fromHeader)",
            "To: \(MIMEEncoding.mailbox(name: recipient.name, address: recipient.email))",
            "Subject: \(edition.subject)",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "List-Id: \(MIMEEncoding.headerText("PaperPost arXiv digest")) <\(listID)>",
            "List-Unsubscribe:\r\n \(unsubscribeHeader)",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Content-Type: multipart/alternative;\r\n boundary=\"\(edition.boundary)\"",
        ]
        for header in headers {
            buffer += header.utf8
            buffer += MIMEEncoding.crlf
        }
        buffer += MIMEEncoding.crlf
        let greeting = Self.greeting(recipient)
        for (type, body, escape) in [
            ("text/plain", edition.text, { (text: String) in text }),
            ("text/html", edition.html, { (text: String) in text.htmlEscaped }),
        ] {
            buffer += "--\(edition.boundary)\r\nContent-Type: \(type); charset=UTF-8\r\nContent-Transfer-Encoding: \(body.encoding.rawValue)\r\n\r\n".utf8
            body.write(into: &buffer) { slot in
                switch slot {
                case .greeting: escape(greeting)
                case .unsubscribeURL: escape(links.unsubscribe)
                case .preferencesURL: escape(links.preferences)
                }
            }
        }
        buffer += "--\(edition.boundary)--\r\n".utf8
        return ComposedEmail(messageID: messageID, recipient: recipient.email, bytes: buffer)
    }

    /// The HTML part as the reader will see it, for previews.
    public func previewHTML(for recipient: Recipient) -> String? {
        guard let edition = editions[EditionKey(categories: recipient.categories.sorted(), language: recipient.language)] else {
            return nil
        }
        let links = self.links(for: recipient)
        return edition.htmlSource
            .replacingOccurrences(of: SlotMarker.marker(.greeting), with: Self.greeting(recipient).htmlEscaped)
            .replacingOccurrences(of: SlotMarker.marker(.unsubscribeURL), with: links.unsubscribe.htmlEscaped)
            .replacingOccurrences(of: SlotMarker.marker(.preferencesURL), with: links.preferences.htmlEscaped)
    }

    func links(for recipient: Recipient) -> (unsubscribe: String, preferences: String) {
        func url(_ path: String, _ purpose: LinkToken.Purpose) -> String {
            let token = LinkToken(purpose: purpose, subscriberID: recipient.subscriberID)
                .signed(serverSecret: serverSecret, subscriberSecret: recipient.linkSecret)
            return "\(settings.baseURL)/\(path)?token=\(token)"
        }
        return (url("unsubscribe", .unsubscribe), url("preferences", .preferences))
    }

    static func greeting(_ recipient: Recipient) -> String {
        let labels = DigestLabels.for(recipient.language)
        guard let name = recipient.name?.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " "),
            !name.isEmpty
        else { return labels.greeting.anonymous }
        return labels.greeting.named.replacingOccurrences(of: "%@", with: name)
    }

    static func prepare(
        digest: Digest, key: EditionKey, edition: (mustRead: [DigestEntry], more: [DigestEntry]), markdown: DigestMarkdown,
        html: MustacheTemplate, text: MustacheTemplate, settings: Settings
    ) -> Edition {
        let labels = DigestLabels.for(key.language)
        let categoryNames = key.categories.map { DigestMarkdown.tag($0, key.language) }.joined(separator: ", ")
        let first = edition.mustRead[0].paper.title
        let picked = edition.mustRead.count + edition.more.count
        let date = "\(digest.day) \(labels.weekdays[digest.day.weekday - 1])"
        let subject =
            switch key.language {
            case .zh: "ArXiv AI 日报 \(date)｜\(picked) 篇精选：\(DigestMarkdown.shortened(first, limit: 40))"
            case .en: "ArXiv AI Daily \(date) | \(picked) picks: \(DigestMarkdown.shortened(first, limit: 40))"
            }
        var context: [String: Any] = [
            "lang": key.language == .zh ? "zh-CN" : "en",
            "title": labels.title,
            "preheader": "\(labels.mustRead): \(first)",
            "greeting": SlotMarker.marker(.greeting),
            "unsubscribe_url": SlotMarker.marker(.unsubscribeURL),
            "preferences_url": SlotMarker.marker(.preferencesURL),
            "archive_url": "\(settings.baseURL)/archive/\(digest.day)",
            "subscribed_to": labels.subscribedTo,
            "categories": categoryNames,
            "archive_label": labels.archive,
            "preferences_label": labels.preferences,
            "unsubscribe_label": labels.unsubscribe,
        ]
        context["body"] = EmailHTML.styled(Markdown.html(markdown.render(digest, language: key.language, categories: key.categories)))
        let htmlSource = html.render(context)
        context["body"] = Markdown.plainText(markdown.render(digest, language: key.language, categories: key.categories, plain: true))
            .wrapped(toColumns: 78)
        let textSource = text.render(context)
        let boundary = "=_pp_" + SHA256.hash(data: Data((htmlSource + textSource).utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return Edition(
            subject: MIMEEncoding.headerText(subject), text: SplicedBody(textSource), html: SplicedBody(htmlSource),
            htmlSource: htmlSource, boundary: boundary)
    }

    static func rfc5322(_ date: Date) -> String {
        date.formatted(Date.VerbatimFormatStyle(
            format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) +0000",
            locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "UTC")!, calendar: Calendar(identifier: .gregorian)))
    }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}

extension String {
    /// Escaped for HTML text and attribute values.
    var htmlEscaped: String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for character in self {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
