import struct Crypto.SHA256
import struct Crypto.SymmetricKey
import Foundation
import Mustache
import PaperPostCore
import Ranking
import Synchronization

/// One reader's email; its bytes (the whole RFC 5322 message, CRLF line ends) are in the
/// buffer `compose` wrote them to.
public struct ComposedEmail: Sendable {
    public var messageID: String
    public var recipient: String
}

/// A `Date:` header value, formatted once and shared by every message of that second.
public struct MessageDate: Sendable {
    public let date: Date
    public let header: String

    public init(_ date: Date = Date()) {
        self.date = date
        self.header = date.formatted(Date.VerbatimFormatStyle(
            format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) +0000",
            locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "UTC")!, calendar: Calendar(identifier: .gregorian)))
    }
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
        /// A reader's own order when their interests changed it; readers with the same order
        /// share the edition.
        var personal: PersonalEdition? = nil
        /// From the week's digest rather than the day's (readers on a weekly schedule).
        var weekly = false
    }

    struct Edition: Sendable {
        var subject: String
        var text: SplicedBody
        var html: SplicedBody
        /// The parts with slot markers, for previews.
        var htmlSource: String
        var textSource: String
        var boundary: String
    }

    let editions: [EditionKey: Edition]
    /// The edition of each reader whose interests rank it for them; the others have their
    /// categories' edition.
    let personalKeys: [Int64: EditionKey]
    /// Whether weekly readers get the week's digest (a week was given).
    let hasWeek: Bool
    let settings: Settings
    let serverSecret: SymmetricKey
    /// The server secret keyed once for the tokens and Message-IDs of every message.
    let signer: LinkToken.Signer
    /// Tags the Message-IDs (see ``messageID(for:)``).
    let messageIDKey: SipHash24
    let day: Day
    let fromHeader: String
    /// The List-Id header value, the same for every message.
    let listIDHeader: String

    /// Prepares the editions these recipients need.
    ///
    /// - Parameter week: the week's digest (see ``Digest/week(_:endingOn:)``) for readers on a
    ///   weekly schedule; without one everybody gets the day's.
    /// - Throws: ``RenderingError`` when a template is missing or broken.
    public init(
        digest: Digest, week: Digest? = nil, recipients: some Sequence<Recipient>, settings: Settings, serverSecret: SymmetricKey
    ) throws(RenderingError) {
        let markdown = try DigestMarkdown(templatesDirectory: settings.templatesDirectory)
        let htmlTemplate = try RenderingError.loading(settings.templatesDirectory, "email.html.mustache")
        let textTemplate = try RenderingError.loading(settings.templatesDirectory, "email.txt.mustache")
        var keys = Set<EditionKey>()
        var personalKeys: [Int64: EditionKey] = [:]
        // Built once for the day (and once for the week), and only if some reader has interests.
        var rankers: [Bool: PersonalRanker] = [:]
        for recipient in recipients {
            var key = Self.key(for: recipient, hasWeek: week != nil)
            if !recipient.interests.isEmpty || !recipient.taste.isEmpty {
                let source = key.weekly ? week! : digest
                let ranker = rankers[key.weekly] ?? PersonalRanker(source)
                rankers[key.weekly] = ranker
                key.personal = ranker.edition(
                    categories: key.categories, language: key.language, interests: recipient.interests, taste: recipient.taste)
                personalKeys[recipient.subscriberID] = key
            }
            keys.insert(key)
        }
        // Editions are independent and each takes milliseconds; a big list has hundreds, and
        // they are all needed before the first message goes out.
        let wanted = Array(keys)
        let prepared = Mutex<[EditionKey: Edition]>([:])
        DispatchQueue.concurrentPerform(iterations: wanted.count) { index in
            let key = wanted[index]
            let source = key.weekly ? week! : digest
            let edition = key.personal.map { DigestMarkdown.entries(of: $0, in: source) } ?? source.edition(for: key.categories)
            guard !edition.mustRead.isEmpty || !edition.more.isEmpty else { return }
            let ready = Self.prepare(
                digest: source, key: key, edition: edition, markdown: markdown, html: htmlTemplate, text: textTemplate,
                settings: settings, serverSecret: serverSecret)
            prepared.withLock { $0[key] = ready }
        }
        self.editions = prepared.withLock { $0 }
        self.personalKeys = personalKeys
        self.hasWeek = week != nil
        self.settings = settings
        self.serverSecret = serverSecret
        self.signer = LinkToken.Signer(serverSecret: serverSecret)
        self.messageIDKey = SipHash24(key: Array(signer.authenticationCode("paperpost-message-id-key-v1")))
        self.day = digest.day
        self.fromHeader = MIMEEncoding.mailbox(name: settings.mail.from.displayName, address: settings.mail.from.address.value)
        let host = URL(string: settings.baseURL)?.host ?? "localhost"
        self.listIDHeader = MIMEEncoding.headerText("PaperPost arXiv digest") + " <\(settings.mail.listID ?? "arxiv-digest.\(host)")>"
    }

    func key(for recipient: Recipient) -> EditionKey {
        personalKeys[recipient.subscriberID] ?? Self.key(for: recipient, hasWeek: hasWeek)
    }

    static func key(for recipient: Recipient, hasWeek: Bool) -> EditionKey {
        EditionKey(categories: recipient.categories.sorted(), language: recipient.language, weekly: hasWeek && recipient.schedule != .daily)
    }

    /// The number of distinct editions prepared.
    public var editionCount: Int { editions.count }

    /// Whether this reader has papers today (otherwise they get no email).
    public func hasEdition(for recipient: Recipient) -> Bool {
        editions[key(for: recipient)] != nil
    }

    /// Writes the reader's message into `buffer` (replacing what it held), or returns `nil`
    /// when nothing in their categories was announced. Reusing one buffer spares an allocation
    /// per message.
    public func compose(for recipient: Recipient, date: MessageDate, into buffer: inout [UInt8]) -> ComposedEmail? {
        let key = key(for: recipient)
        guard let edition = editions[key] else {
            return nil
        }
        buffer.removeAll(keepingCapacity: true)
        let links = self.links(for: recipient)
        let messageID = self.messageID(for: recipient.subscriberID)
        func header(_ name: String, _ value: String) {
            buffer += name.utf8
            buffer += value.utf8
            buffer += MIMEEncoding.crlf
        }
        header("From: ", fromHeader)
        header("To: ", MIMEEncoding.mailbox(name: recipient.name, address: recipient.email))
        header("Subject: ", edition.subject)
        header("Date: ", date.header)
        header("Message-ID: ", messageID)
        if let replyTo = settings.mail.replyTo { header("Reply-To: ", replyTo.value) }
        header("MIME-Version: ", "1.0")
        header("List-Id: ", listIDHeader)
        buffer += "List-Unsubscribe:\r\n <".utf8
        buffer += links.unsubscribe.utf8
        if let mailto = settings.mail.unsubscribeMailto {
            buffer += ">,\r\n <mailto:\(mailto)?subject=unsubscribe%20\(links.unsubscribeToken)".utf8
        }
        buffer += ">\r\n".utf8
        header("List-Unsubscribe-Post: ", "List-Unsubscribe=One-Click")
        header("Content-Type: ", "multipart/alternative;\r\n boundary=\"\(edition.boundary)\"")
        buffer += MIMEEncoding.crlf
        var slots = readerSlots(recipient, key: key, links: links, date: date.date)
        for (type, body, html) in [("text/plain", edition.text, false), ("text/html", edition.html, true)] {
            buffer += "--\(edition.boundary)\r\nContent-Type: \(type); charset=UTF-8\r\nContent-Transfer-Encoding: \(body.encoding.rawValue)\r\n\r\n".utf8
            body.write(into: &buffer, slots: &slots, html: html)
        }
        buffer += "--\(edition.boundary)--\r\n".utf8
        return ComposedEmail(messageID: messageID, recipient: recipient.email)
    }

    /// The HTML part as the reader will see it, for previews.
    public func previewHTML(for recipient: Recipient) -> String? {
        preview(recipient, \.htmlSource, escape: \.htmlEscaped)
    }

    /// The plain-text part as the reader will see it, for previews.
    public func previewText(for recipient: Recipient) -> String? {
        preview(recipient, \.textSource, escape: { $0 })
    }

    private func preview(_ recipient: Recipient, _ source: KeyPath<Edition, String>, escape: (String) -> String) -> String? {
        let key = key(for: recipient)
        guard let edition = editions[key] else {
            return nil
        }
        let slots = readerSlots(recipient, key: key, links: self.links(for: recipient), date: Date())
        return edition[keyPath: source].replacing(/\x{E000}([^\x{E001}]*)\x{E001}/) { match in
            Slot(name: String(match.output.1)).map { escape(slots.value($0, html: false)) } ?? ""
        }
    }

    /// How long a feedback link works: readers vote on old issues too, but not forever.
    public static let feedbackLifetime: TimeInterval = 180 * 86_400

    func readerSlots(
        _ recipient: Recipient, key: EditionKey, links: (unsubscribe: String, unsubscribeToken: String, preferences: String), date: Date
    ) -> ReaderSlots {
        ReaderSlots(
            greeting: Self.greeting(recipient), unsubscribeURL: links.unsubscribe, preferencesURL: links.preferences,
            editionURL: key.personal == nil
                ? "" : settings.baseURL + EditionLink(
                    day: day, categories: key.categories, language: key.language, weekly: key.weekly, reader: recipient.subscriberID
                ).path(key: serverSecret),
            feedbackBase: "\(settings.baseURL)/feedback?token=",
            feedback: signer.subjectSigner(
                purpose: .feedback, subscriberID: recipient.subscriberID, expires: date.addingTimeInterval(Self.feedbackLifetime),
                subscriberSecret: recipient.linkSecret))
    }

    /// Turns the Markdown's feedback placeholders into slot markers, once per edition. In HTML
    /// the `href` goes on a line of its own (a line break between attributes is just
    /// whitespace): the lines holding a slot are encoded again for every message, and a table
    /// row's whole line would be hundreds of bytes.
    static func fillingSlots(_ rendered: String, html: Bool = false) -> String {
        if html {
            return rendered.replacing(/\ href="https:\/\/paperpost-slot\.invalid\/(feedback_(?:up|down)_[A-Za-z0-9.\/_-]+)"/) { match in
                "\nhref=\"" + SlotMarker.marker(Slot(name: String(match.output.1)) ?? .greeting) + "\"\n"
            }
        }
        return rendered.replacing(/https:\/\/paperpost-slot\.invalid\/(feedback_(?:up|down)_[A-Za-z0-9.\/_-]+)/) { match in
            SlotMarker.marker(Slot(name: String(match.output.1)) ?? .greeting)
        }
    }

    func links(for recipient: Recipient) -> (unsubscribe: String, unsubscribeToken: String, preferences: String) {
        func token(_ purpose: LinkToken.Purpose) -> String {
            signer.signed(LinkToken(purpose: purpose, subscriberID: recipient.subscriberID), subscriberSecret: recipient.linkSecret)
        }
        let unsubscribe = token(.unsubscribe)
        return ("\(settings.baseURL)/unsubscribe?token=\(unsubscribe)", unsubscribe, "\(settings.baseURL)/preferences?token=\(token(.preferences))")
    }

    static func greeting(_ recipient: Recipient) -> String {
        let greeting = DigestLabels.for(recipient.language).greeting
        guard let name = recipient.name.map(MIMEEncoding.sanitized), !name.isEmpty else { return greeting.anonymous }
        return greeting.before + name + greeting.after
    }

    static func prepare(
        digest: Digest, key: EditionKey, edition: (mustRead: [DigestEntry], more: [DigestEntry]), markdown: DigestMarkdown,
        html: MustacheTemplate, text: MustacheTemplate, settings: Settings, serverSecret: SymmetricKey
    ) -> Edition {
        let labels = DigestLabels.for(key.language)
        let categoryNames = key.categories.map { DigestMarkdown.tag($0, key.language) }.joined(separator: ", ")
        // A reader's own edition may have no must-read (none of their picks has a summary).
        let top = edition.mustRead + edition.more
        let first = top[0].paper.title.decodingTeXMath
        // The preview line mail programs show under the subject: what is inside, not the
        // subject again.
        let preheader = top.prefix(2).map { DigestMarkdown.shortened($0.paper.title.decodingTeXMath, limit: 60) }
            .joined(separator: " · ")
        let picked = edition.mustRead.count + edition.more.count
        let date = DigestMarkdown.dates(digest, labels)
        let name = digest.weekStart == nil ? (key.language == .zh ? "ArXiv AI 日报" : "ArXiv AI Daily") : labels.weeklyName
        let subject =
            switch key.language {
            case .zh: "\(name) \(date)｜\(picked) 篇精选：\(DigestMarkdown.shortened(first, limit: 40))"
            case .en: "\(name) \(date) | \(picked) \(picked == 1 ? "pick" : "picks"): \(DigestMarkdown.shortened(first, limit: 40))"
            }
        var context: [String: Any] = [
            "lang": key.language == .zh ? "zh-CN" : "en",
            "title": digest.weekStart == nil ? labels.title : labels.weeklyTitle,
            "preheader": "\(labels.mustRead): \(preheader.linkInert)",
            "greeting": SlotMarker.marker(.greeting),
            "unsubscribe_url": SlotMarker.marker(.unsubscribeURL),
            "preferences_url": SlotMarker.marker(.preferencesURL),
            // The reader's own edition on the web: these papers, these numbers, this language.
            "archive_url": key.personal == nil
                ? settings.baseURL + EditionLink(day: digest.day, categories: key.categories, language: key.language, weekly: key.weekly).path(key: serverSecret)
                : SlotMarker.marker(.editionURL),
            "subscribed_to": labels.subscribedTo,
            "categories": categoryNames,
            // The text part's footer wraps at 78 columns like its body.
            "subscribed_line": "\(labels.subscribedTo) \(categoryNames)".wrapped(toColumns: 78),
            "sender": settings.mail.postalAddress.map { "\(settings.mail.from.displayName ?? labels.brand) · \($0)" } ?? "",
            "archive_label": labels.archive,
            "preferences_label": labels.preferences,
            "unsubscribe_label": labels.unsubscribe,
        ]
        // The digest's only links are arXiv's; the template adds this site's own around it.
        context["body"] = EmailHTML.styled(
            Self.fillingSlots(
                Markdown.html(
                    markdown.render(digest, language: key.language, categories: key.categories, personal: key.personal, feedback: true),
                    links: LinkPolicy(prefixes: LinkPolicy.arxivAbstracts.prefixes + [Slot.placeholderPrefix])),
                html: true))
        let htmlSource = html.render(context)
        context["body"] = Self.fillingSlots(Markdown.plainText(
            markdown.render(digest, language: key.language, categories: key.categories, personal: key.personal, plain: true, feedback: true)))
            .wrapped(toColumns: 78)
        let textSource = text.render(context)
        let boundary = "=_pp_" + SHA256.hash(data: Data((htmlSource + textSource).utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return Edition(
            subject: MIMEEncoding.headerText(subject), text: SplicedBody(textSource), html: SplicedBody(htmlSource),
            htmlSource: htmlSource, textSource: textSource, boundary: boundary)
    }

    /// The same for every attempt at one delivery row (the day's digest to one reader), so a
    /// receiver that got a retry of a message it already had can drop the copy; keyed with a
    /// key derived from the server secret so that nobody can guess another reader's.
    func messageID(for subscriberID: Int64) -> String {
        let tag = messageIDKey.tag(Array("\(day) \(subscriberID)".utf8))
        var hex: [UInt8] = []
        hex.reserveCapacity(16)
        for shift in stride(from: 60, through: 0, by: -4) { hex.append(Self.hexDigits[Int(tag >> UInt64(shift) & 15)]) }
        return "<\(day).\(subscriberID).\(String(decoding: hex, as: UTF8.self))@\(settings.mail.from.address.domain)>"
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var output: [UInt8] = []
        output.reserveCapacity(bytes * 2)
        var random: UInt64 = 0
        for index in 0..<bytes {
            // One draw (one system call) serves eight bytes.
            if index % 8 == 0 { random = generator.next() }
            let byte = UInt8(truncatingIfNeeded: random >> (UInt64(index % 8) * 8))
            output += [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]]
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension String {
    /// Escaped for HTML text and attribute values. Works on UTF-8 bytes (the five characters
    /// are ASCII), since it runs for every personal value of every message.
    var htmlEscaped: String {
        let special: (UInt8) -> Bool = { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }
        guard utf8.contains(where: special) else { return self }
        var result: [UInt8] = []
        result.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            switch byte {
            case 38: result += "&amp;".utf8
            case 60: result += "&lt;".utf8
            case 62: result += "&gt;".utf8
            case 34: result += "&quot;".utf8
            case 39: result += "&#39;".utf8
            default: result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}

/// One reader's text for the slots of a message, written straight into the message's bytes:
/// a digest has eighteen feedback links, each signed, in both parts of a message.
struct ReaderSlots {
    let greeting: String
    let unsubscribeURL: String
    let preferencesURL: String
    let editionURL: String
    /// The feedback address up to the token, and the same escaped for HTML (the token after it
    /// is URL-safe characters only).
    let feedbackBase: [UInt8]
    let feedbackBaseHTML: [UInt8]
    let feedback: LinkToken.SubjectSigner
    /// The raw bytes of a personal region before they are encoded, reused for each region.
    private var scratch: [UInt8] = []

    init(
        greeting: String, unsubscribeURL: String, preferencesURL: String, editionURL: String, feedbackBase: String,
        feedback: LinkToken.SubjectSigner
    ) {
        self.editionURL = editionURL
        self.greeting = greeting
        self.unsubscribeURL = unsubscribeURL
        self.preferencesURL = preferencesURL
        self.feedbackBase = Array(feedbackBase.utf8)
        self.feedbackBaseHTML = Array(feedbackBase.htmlEscaped.utf8)
        self.feedback = feedback
    }

    /// Appends the slot's text, escaped for HTML when `html`.
    func write(_ slot: Slot, html: Bool, into output: inout [UInt8]) {
        let text: String
        switch slot {
        case .greeting: text = greeting
        case .unsubscribeURL: text = unsubscribeURL
        case .preferencesURL: text = preferencesURL
        case .editionURL: text = editionURL
        case .feedback(let paper, let vote):
            writeFeedback(LinkToken.Subject(Vote.subject(paper: paper, vote)), html: html, into: &output)
            return
        }
        output += (html ? text.htmlEscaped : text).utf8
    }

    func writeFeedback(_ subject: LinkToken.Subject, html: Bool, into output: inout [UInt8]) {
        output += html ? feedbackBaseHTML : feedbackBase
        feedback.write(subject, into: &output)
    }

    /// The slot's text as a string, for previews.
    func value(_ slot: Slot, html: Bool) -> String {
        var bytes: [UInt8] = []
        write(slot, html: html, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An empty buffer for a region's raw bytes, keeping the capacity of the last one.
    mutating func takeScratch() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &scratch)
        taken.removeAll(keepingCapacity: true)
        return taken
    }

    mutating func returnScratch(_ buffer: consuming [UInt8]) {
        scratch = buffer
    }
}
