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
/// A message is put together from pieces rendered once and shared (see ``EditionPieces``): the
/// frame for the reader's categories and number of picks, and the block or table row of each of
/// their papers at its rank. Per message only the reader's own parts are added: the To header,
/// the Message-ID, the greeting, the reasons papers moved for them and the signed links. A
/// reader whose interests or votes rank the papers for them is ranked when their message is
/// composed, so nothing is kept per reader.
public struct EmailComposer: Sendable {
    struct EditionKey: Hashable, Sendable {
        var categories: [String]
        var language: Language
        /// A reader's own order when their interests changed it.
        var personal: PersonalEdition? = nil
        /// From the week's digest rather than the day's (readers on a weekly schedule).
        var weekly = false
    }

    /// A reader's message laid out: its pieces, and the text that is theirs.
    ///
    /// A class: every message takes its layout out of the shared cache, and copying a struct
    /// of nine fields out was a retain of each of them, per message.
    final class Layout: Sendable {
        let key: EditionKey
        let frame: EditionPieces.Frame
        /// The must-reads' blocks, then the table's rows.
        let papers: [EditionPieces.Piece]
        let mustReadCount: Int
        /// The line saying why each moved paper moved, by paper id, in the reader's language.
        let reasons: [String: String]
        let subject: String
        let preheader: String
        /// Each part's pieces in order: the frame's top, the must-reads, the frame's middle, the
        /// table's rows, the frame's bottom.
        let text: [SplicedBody]
        let html: [SplicedBody]

        init(
            key: EditionKey, frame: EditionPieces.Frame, papers: [EditionPieces.Piece], mustReadCount: Int, reasons: [String: String],
            subject: String, preheader: String
        ) {
            self.key = key
            self.frame = frame
            self.papers = papers
            self.mustReadCount = mustReadCount
            self.reasons = reasons
            self.subject = subject
            self.preheader = preheader
            let ordered = EmailComposer.pieces(frame: frame, papers: papers, mustReadCount: mustReadCount)
            // A whole category's edition goes to many readers: its pieces are joined into one
            // body per part. A reader's own order keeps references to the shared pieces, which
            // is what keeps memory flat.
            text = key.personal == nil ? [SplicedBody(joining: ordered.map(\.text))] : ordered.map(\.text)
            html = key.personal == nil ? [SplicedBody(joining: ordered.map(\.html))] : ordered.map(\.html)
        }
    }

    let pieces: EditionPieces
    /// The day's and the week's papers indexed for ranking (`false` is the day).
    let rankers: [Bool: PersonalRanker]
    /// Each paper's position in the day's and the week's entries.
    let positions: [Bool: [String: Int]]
    /// The layouts already made: the editions of whole categories (few, and asked for by most
    /// messages) and the orders readers ranked for themselves share.
    let shared = SharedLayouts()

    final class SharedLayouts: Sendable {
        let known = Mutex<[EditionKey: Layout?]>([:])
    }
    /// Whether weekly readers get the week's digest (a week was given).
    let hasWeek: Bool
    let settings: Settings
    let serverSecret: SymmetricKey
    /// The server secret keyed once for the tokens and Message-IDs of every message.
    let signer: LinkToken.Signer
    /// Tags the Message-IDs (see ``messageID(for:)``).
    let messageIDKey: SipHash24
    /// What every Message-ID of this digest shares: the tagged text's `"DAY "` and the ID's
    /// `<DAY.` and `@domain>`, made once rather than per message.
    let messageIDParts: (tagged: [UInt8], head: String, tail: String)
    let day: Day
    let fromHeader: String
    /// The List-Id header value, the same for every message.
    let listIDHeader: String
    /// The MIME boundary: it starts with `=_`, which neither quoted-printable nor base64 can
    /// produce, so it never occurs in a part.
    let boundary: String
    /// What every message's parts start with, per language (their transfer encodings differ),
    /// and the feedback address up to the token: the same bytes for every reader.
    let partHeads: [Language: (text: [UInt8], html: [UInt8])]
    let feedbackBase: (text: [UInt8], html: [UInt8])

    /// Prepares what these recipients' messages share.
    ///
    /// - Parameter week: the week's digest (see ``Digest/week(_:endingOn:)``) for readers on a
    ///   weekly schedule; without one everybody gets the day's.
    /// - Throws: ``RenderingError`` when a template is missing or broken.
    public init(
        digest: Digest, week: Digest? = nil, recipients: some Sequence<Recipient>, settings: Settings, serverSecret: SymmetricKey
    ) throws(RenderingError) {
        let pieces = try EditionPieces(digest: digest, week: week, settings: settings, serverSecret: serverSecret)
        self.pieces = pieces
        var rankers = [false: PersonalRanker(digest)]
        var positions = [false: Self.positions(digest)]
        if let week {
            rankers[true] = PersonalRanker(week)
            positions[true] = Self.positions(week)
        }
        self.rankers = rankers
        self.positions = positions
        self.hasWeek = week != nil
        self.settings = settings
        self.serverSecret = serverSecret
        self.signer = LinkToken.Signer(serverSecret: serverSecret)
        self.messageIDKey = SipHash24(key: Array(signer.authenticationCode("paperpost-message-id-key-v1")))
        self.day = digest.day
        self.messageIDParts = (Array("\(digest.day) ".utf8), "<\(digest.day).", "@\(settings.mail.from.address.domain)>")
        self.fromHeader = MIMEEncoding.mailbox(name: settings.mail.from.displayName, address: settings.mail.from.address.value)
        let host = URL(string: settings.baseURL)?.host ?? "localhost"
        self.listIDHeader = MIMEEncoding.headerText("PaperPost arXiv digest") + " <\(settings.mail.listID ?? "arxiv-digest.\(host)")>"
        let ids = (digest.entries + (week?.entries ?? [])).map(\.paper.id).joined(separator: " ")
        let boundary = "=_pp_" + SHA256.hash(data: Data("\(digest.day) \(ids)".utf8)).prefix(12).hexEncoded
        self.boundary = boundary
        self.partHeads = Dictionary(uniqueKeysWithValues: Language.allCases.map { language in
            let encodings = pieces.encodings[language] ?? (.quotedPrintable, .quotedPrintable)
            func head(_ type: String, _ encoding: TransferEncoding) -> [UInt8] {
                Array("--\(boundary)\r\nContent-Type: \(type); charset=UTF-8\r\nContent-Transfer-Encoding: \(encoding.rawValue)\r\n\r\n".utf8)
            }
            return (language, (head("text/plain", encodings.text), head("text/html", encodings.html)))
        })
        self.feedbackBase = ReaderSlots.feedbackBase("\(settings.baseURL)/feedback?token=")
        // The editions everyone in some categories shares, prepared on every core before the
        // first message; readers ranked for themselves bring their papers' pieces as they come.
        let keys = Array(Set(recipients.map { Self.key(for: $0, hasWeek: week != nil) }))
        let composer = self
        DispatchQueue.concurrentPerform(iterations: keys.count) { index in
            _ = composer.sharedLayout(keys[index])
        }
    }

    static func positions(_ digest: Digest) -> [String: Int] {
        Dictionary(digest.entries.enumerated().map { ($1.paper.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func key(for recipient: Recipient, hasWeek: Bool) -> EditionKey {
        EditionKey(categories: recipient.categories.sorted(), language: recipient.language, weekly: hasWeek && recipient.schedule != .daily)
    }

    /// The number of pieces rendered so far (frames count three).
    public var pieceCount: Int { pieces.count }

    /// Whether this reader has papers today (otherwise they get no email).
    ///
    /// A reader's own order has the papers of their categories less the muted ones, so without
    /// muted phrases the answer is their categories' and they need not be ranked: a send asks
    /// this for every reader before composing (and ranking) their message.
    public func hasEdition(for recipient: Recipient) -> Bool {
        guard recipient.interests.muted.isEmpty else { return layout(for: recipient) != nil }
        return sharedLayout(Self.key(for: recipient, hasWeek: hasWeek)) != nil
    }

    func layout(for recipient: Recipient) -> Layout? {
        var key = Self.key(for: recipient, hasWeek: hasWeek)
        guard !recipient.interests.isEmpty || !recipient.taste.isEmpty, let ranker = rankers[key.weekly] else {
            return sharedLayout(key)
        }
        key.personal = ranker.edition(categories: key.categories, language: key.language, interests: recipient.interests, taste: recipient.taste)
        return sharedLayout(key)
    }

    private func sharedLayout(_ key: EditionKey) -> Layout? {
        if let known = shared.known.withLock({ $0[key] }) { return known }
        let made = layout(key)
        shared.known.withLock { known in
            if known.count < Self.sharedLayoutLimit { known[key] = made }
        }
        return made
    }

    /// How many layouts are kept. Readers ranked alike share one (in the personal bench 100,000
    /// readers have 2,320 orders between them), but a list of readers who each differ must not
    /// grow the cache without end: past the limit, new layouts are made for each message.
    static let sharedLayoutLimit = 20_000

    /// The pieces of an edition, or `nil` when it has no papers.
    private func layout(_ key: EditionKey) -> Layout? {
        let source = key.weekly ? pieces.week ?? pieces.digest : pieces.digest
        let positions = positions[key.weekly] ?? [:]
        let (mustRead, more) =
            key.personal.map { ($0.mustRead.compactMap { positions[$0] }, $0.more.compactMap { positions[$0] }) }
            ?? {
                let edition = source.edition(for: key.categories)
                return (edition.mustRead.compactMap { positions[$0.paper.id] }, edition.more.compactMap { positions[$0.paper.id] })
            }()
        guard !mustRead.isEmpty || !more.isEmpty else { return nil }
        let labels = DigestLabels.for(key.language)
        var reasons: [String: String] = [:]
        for (id, reason) in key.personal?.reasons ?? [:] {
            reasons[id] = labels.why(reason).linkInert
        }
        func block(_ paper: Int, mustRead: Bool, rank: Int) -> EditionPieces.BlockKey {
            let entry = source.entries[paper]
            let via = key.categories.contains(entry.paper.primaryCategory) ? nil : entry.paper.categories.first(where: key.categories.contains)
            return EditionPieces.BlockKey(
                weekly: key.weekly, language: key.language, paper: paper, mustRead: mustRead, rank: rank, via: via,
                why: reasons[entry.paper.id] != nil)
        }
        let frame = pieces.frame(EditionPieces.FrameKey(
            weekly: key.weekly, language: key.language, categories: key.categories, picked: mustRead.count + more.count,
            hasMustRead: !mustRead.isEmpty, hasMore: !more.isEmpty, personal: key.personal != nil))
        let papers = pieces.blocks(
            mustRead.enumerated().map { block($1, mustRead: true, rank: $0 + 1) }
                + more.enumerated().map { block($1, mustRead: false, rank: mustRead.count + $0 + 1) })
        let heading = pieces.heading(EditionPieces.HeadingKey(
            weekly: key.weekly, language: key.language, picked: mustRead.count + more.count, papers: Array((mustRead + more).prefix(2))))
        return Layout(
            key: key, frame: frame, papers: papers, mustReadCount: mustRead.count, reasons: reasons,
            subject: heading.subject, preheader: heading.preheader)
    }

    /// Writes the reader's message into `buffer` (replacing what it held), or returns `nil`
    /// when nothing in their categories was announced. Reusing one buffer spares an allocation
    /// per message.
    public func compose(for recipient: Recipient, date: MessageDate, into buffer: inout [UInt8]) -> ComposedEmail? {
        guard let layout = layout(for: recipient) else {
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
        header("Subject: ", layout.subject)
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
        header("Content-Type: ", "multipart/alternative;\r\n boundary=\"\(boundary)\"")
        buffer += MIMEEncoding.crlf
        var slots = readerSlots(recipient, layout: layout, links: links, date: date.date)
        let heads = partHeads[layout.key.language]!
        buffer += heads.text
        for index in layout.text.indices { layout.text[index].write(into: &buffer, slots: &slots, html: false) }
        buffer += heads.html
        for index in layout.html.indices { layout.html[index].write(into: &buffer, slots: &slots, html: true) }
        buffer += "--\(boundary)--\r\n".utf8
        return ComposedEmail(messageID: messageID, recipient: recipient.email)
    }

    /// A message's pieces in order: the frame's top, the must-reads, the frame's middle, the
    /// table's rows, the frame's bottom.
    static func pieces(of layout: Layout) -> [EditionPieces.Piece] {
        pieces(frame: layout.frame, papers: layout.papers, mustReadCount: layout.mustReadCount)
    }

    static func pieces(frame: EditionPieces.Frame, papers: [EditionPieces.Piece], mustReadCount: Int) -> [EditionPieces.Piece] {
        [frame.top] + papers.prefix(mustReadCount) + [frame.middle] + papers.dropFirst(mustReadCount) + [frame.bottom]
    }

    /// The HTML part as the reader will see it, for previews.
    public func previewHTML(for recipient: Recipient) -> String? {
        preview(recipient, \.htmlSource, escape: \.htmlEscaped)
    }

    /// The plain-text part as the reader will see it, for previews.
    public func previewText(for recipient: Recipient) -> String? {
        preview(recipient, \.textSource, escape: { $0 })
    }

    private func preview(_ recipient: Recipient, _ source: KeyPath<EditionPieces.Piece, String>, escape: (String) -> String) -> String? {
        guard let layout = layout(for: recipient) else {
            return nil
        }
        let slots = readerSlots(recipient, layout: layout, links: self.links(for: recipient), date: Date())
        return Self.pieces(of: layout).map { $0[keyPath: source] }.joined().replacing(/\x{E000}([^\x{E001}]*)\x{E001}/) { match in
            Slot(name: String(match.output.1)).map { escape(slots.value($0, html: false)) } ?? ""
        }
    }

    /// How long a feedback link works: readers vote on old issues too, but not forever.
    public static let feedbackLifetime: TimeInterval = 180 * 86_400

    func readerSlots(
        _ recipient: Recipient, layout: Layout, links: (unsubscribe: String, unsubscribeToken: String, preferences: String), date: Date
    ) -> ReaderSlots {
        ReaderSlots(
            greeting: Self.greeting(recipient), unsubscribeURL: links.unsubscribe, preferencesURL: links.preferences,
            editionURL: layout.key.personal == nil
                ? "" : settings.baseURL + EditionLink(
                    day: day, categories: layout.key.categories, language: layout.key.language, weekly: layout.key.weekly,
                    reader: recipient.subscriberID
                ).path(signer: signer),
            preheader: layout.preheader, reasons: layout.reasons,
            feedbackBase: feedbackBase,
            feedback: signer.subjectSigner(
                purpose: .feedback, subscriberID: recipient.subscriberID, expires: date.addingTimeInterval(Self.feedbackLifetime),
                subscriberSecret: recipient.linkSecret))
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

    /// The same for every attempt at one delivery row (the day's digest to one reader), so a
    /// receiver that got a retry of a message it already had can drop the copy; keyed with a
    /// key derived from the server secret so that nobody can guess another reader's.
    func messageID(for subscriberID: Int64) -> String {
        let tag = messageIDKey.tag(messageIDParts.tagged + String(subscriberID).utf8)
        let hex = (0..<8).map { UInt8(truncatingIfNeeded: tag >> (56 - UInt64($0) * 8)) }.hexEncoded
        return messageIDParts.head + String(subscriberID) + "." + hex + messageIDParts.tail
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
    let preheader: String
    /// The line saying why each moved paper moved, by paper id.
    let reasons: [String: String]
    /// The feedback address up to the token, and the same escaped for HTML (the token after it
    /// is URL-safe characters only).
    let feedbackBase: [UInt8]
    let feedbackBaseHTML: [UInt8]
    let feedback: LinkToken.SubjectSigner
    /// The raw bytes of a personal region before they are encoded, reused for each region.
    private var scratch: [UInt8] = []

    init(
        greeting: String, unsubscribeURL: String, preferencesURL: String, editionURL: String, preheader: String = "",
        reasons: [String: String] = [:], feedbackBase: (text: [UInt8], html: [UInt8]), feedback: LinkToken.SubjectSigner
    ) {
        self.editionURL = editionURL
        self.preheader = preheader
        self.reasons = reasons
        self.greeting = greeting
        self.unsubscribeURL = unsubscribeURL
        self.preferencesURL = preferencesURL
        self.feedbackBase = feedbackBase.text
        self.feedbackBaseHTML = feedbackBase.html
        self.feedback = feedback
    }

    /// The feedback address up to the token, as text and escaped for HTML (the token after it is
    /// URL-safe characters only); made once per composer.
    static func feedbackBase(_ url: String) -> (text: [UInt8], html: [UInt8]) {
        (Array(url.utf8), Array(url.htmlEscaped.utf8))
    }

    /// Appends the slot's text, escaped for HTML when `html`.
    func write(_ slot: Slot, html: Bool, into output: inout [UInt8]) {
        let text: String
        switch slot {
        case .greeting: text = greeting
        case .unsubscribeURL: text = unsubscribeURL
        case .preferencesURL: text = preferencesURL
        case .editionURL: text = editionURL
        case .preheader: text = preheader
        case .why(let paper): text = reasons[paper] ?? ""
        case .cut, .cutEnd: return
        case .feedback(let paper, let vote):
            writeFeedback(LinkToken.Subject(Vote.subject(paper: paper, vote)), html: html, into: &output)
            return
        }
        output += (html ? text.htmlEscaped : text).utf8
    }

    func writeFeedback(_ subject: LinkToken.Subject, html: Bool, into output: inout [UInt8]) {
        writeFeedback(subject: subject.bytes.span, encoded: subject.encoded.span, html: html, into: &output)
    }

    /// The link for a subject kept in a body's bytes (see ``SplicedBody/Fragment/feedback(subject:encoded:)``).
    func writeFeedback(subject: Span<UInt8>, encoded: Span<UInt8>, html: Bool, into output: inout [UInt8]) {
        output += html ? feedbackBaseHTML : feedbackBase
        feedback.write(subject: subject, encoded: encoded, into: &output)
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
