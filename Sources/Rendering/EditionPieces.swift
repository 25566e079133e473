import struct Crypto.SymmetricKey
import Foundation
import Mustache
import PaperPostCore
import Synchronization

/// The parts of the day's emails that readers share, each rendered and encoded once: the frame
/// around the papers (greeting, header, section headings, footer) for each set of categories and
/// number of picks, and each paper's block or table row at each place it takes. A reader's
/// message is their frame with their papers' pieces in between and their own text in the slots.
///
/// With 100,000 readers each ranked their own way there are thousands of distinct editions but
/// a few thousand distinct pieces, so pieces are rendered when first asked for and kept for the
/// send: memory grows with pieces, never with readers.
///
/// A piece is cut out of a rendering of the whole template (the template marks each paper and
/// the end of each list with ``Slot/cut`` and ``Slot/cutEnd`` markers when asked to; an HTML
/// table's rows are cut at cmark's `<tr>` lines), so the pieces put together are the edition
/// the template would have rendered whole.
final class EditionPieces: Sendable {
    /// A paper as it appears at one place in some readers' emails.
    struct BlockKey: Hashable, Sendable {
        var weekly: Bool
        var language: Language
        /// The paper's position in the day's (or the week's) entries.
        var paper: Int
        var mustRead: Bool
        var rank: Int
        /// The reader's category that brought the paper in when it is filed elsewhere.
        var via: String?
        /// Whether the reader gets a line saying why it moved (a slot: the words are theirs).
        var why: Bool
    }

    /// What surrounds the papers.
    struct FrameKey: Hashable, Sendable {
        var weekly: Bool
        var language: Language
        var categories: [String]
        var picked: Int
        var hasMustRead: Bool
        var hasMore: Bool
        /// The archive link is the reader's own edition (a slot) rather than their categories'.
        var personal: Bool
    }

    /// What the subject line and the preview line under it say: they name the first papers.
    struct HeadingKey: Hashable, Sendable {
        var weekly: Bool
        var language: Language
        var picked: Int
        /// The positions of the first two papers.
        var papers: [Int]
    }

    /// One piece in both parts, encoded, and as text for previews.
    struct Piece: Sendable {
        var text: SplicedBody
        var html: SplicedBody
        var textSource: String
        var htmlSource: String
    }

    /// A frame's three pieces: before the must-reads, between them and the table's rows, after.
    struct Frame: Sendable {
        var top: Piece
        var middle: Piece
        var bottom: Piece
    }

    let digest: Digest
    let week: Digest?
    let settings: Settings
    let serverSecret: SymmetricKey
    let markdown: DigestMarkdown
    let htmlTemplate: MustacheTemplate
    let textTemplate: MustacheTemplate
    /// The transfer encodings of each language's parts, chosen once (from the day's whole
    /// edition) since every piece of a part must share one.
    let encodings: [Language: (text: TransferEncoding, html: TransferEncoding)]
    private let frames = Mutex<[FrameKey: Frame]>([:])
    private let blocks = Mutex<[BlockKey: Piece]>([:])
    private let headings = Mutex<[HeadingKey: (subject: String, preheader: String)]>([:])

    /// - Throws: ``RenderingError`` when a template is missing or broken.
    init(digest: Digest, week: Digest?, settings: Settings, serverSecret: SymmetricKey) throws(RenderingError) {
        self.digest = digest
        self.week = week
        self.settings = settings
        self.serverSecret = serverSecret
        markdown = try DigestMarkdown(templatesDirectory: settings.templatesDirectory)
        htmlTemplate = try RenderingError.loading(settings.templatesDirectory, "email.html.mustache")
        textTemplate = try RenderingError.loading(settings.templatesDirectory, "email.txt.mustache")
        var encodings: [Language: (text: TransferEncoding, html: TransferEncoding)] = [:]
        for language in Language.allCases {
            let whole = Self.parts(
                markdown, digest, language: language, categories: nil, picked: digest.picks.count,
                mustRead: Array(digest.picks.prefix(digest.mustRead)).enumerated().map {
                    DigestMarkdown.Item(entry: $1, rank: $0 + 1, readerCategories: nil, why: nil)
                },
                more: Array(digest.picks.dropFirst(digest.mustRead)).enumerated().map {
                    DigestMarkdown.Item(entry: $1, rank: digest.mustRead + $0 + 1, readerCategories: nil, why: nil)
                }, cut: false)
            encodings[language] = (TransferEncoding.shorter(for: Array(whole.text.utf8)), TransferEncoding.shorter(for: Array(whole.html.utf8)))
        }
        self.encodings = encodings
        try checkCutMarkers(settings.templatesDirectory)
    }

    /// A digest template from `PAPERPOST_TEMPLATES` written before emails were made of pieces
    /// has no cut markers; refused here, naming the file, rather than mailing emails without
    /// their papers.
    private func checkCutMarkers(_ directory: String?) throws(RenderingError) {
        guard let entry = digest.entries.first else { return }
        let item = DigestMarkdown.Item(entry: entry, rank: 1, readerCategories: nil, why: nil)
        let probe = Self.parts(markdown, digest, language: .en, categories: nil, picked: 2, mustRead: [item], more: [item], cut: true)
        guard Self.cut(probe.text, tableRows: false).pieces.count == 2, Self.cut(probe.html, tableRows: true).pieces.count == 2 else {
            throw .template(
                "\(TemplateFiles(directory: directory).origin("digest.md.mustache")) does not mark its papers for cutting: "
                    + "put {{{cut}}} on a line of its own before each paper, and {{{must_read_end}}} and {{{more_end}}} after the "
                    + "must-read list and the plain-text list of further picks, each between blank lines, as the built-in template does")
        }
    }

    /// How many pieces have been rendered so far.
    var count: Int {
        frames.withLock { $0.count } * 3 + blocks.withLock { $0.count }
    }

    func frame(_ key: FrameKey) -> Frame {
        if let known = frames.withLock({ $0[key] }) { return known }
        // Rendered outside the lock: two lanes may both render a new piece, and one copy wins.
        let made = renderFrame(key)
        frames.withLock { $0[key] = made }
        return made
    }

    /// The pieces of these papers (all of one language and schedule), rendering together the
    /// ones not rendered yet: one template and one cmark pass for a reader's new papers.
    func blocks(_ keys: [BlockKey]) -> [Piece] {
        let known = blocks.withLock { blocks in keys.map { blocks[$0] } }
        let missing = keys.indices.filter { known[$0] == nil }.map { keys[$0] }
        guard !missing.isEmpty else { return known.map { $0! } }
        // Rendered outside the lock: two lanes may both render a new piece, and one copy wins.
        let made = Dictionary(zip(missing, renderBlocks(missing)), uniquingKeysWith: { first, _ in first })
        blocks.withLock { blocks in blocks.merge(made) { old, _ in old } }
        return keys.indices.map { known[$0] ?? made[keys[$0]]! }
    }

    /// The Subject header (encoded) and the preview line of messages that start with these papers.
    func heading(_ key: HeadingKey) -> (subject: String, preheader: String) {
        if let known = headings.withLock({ $0[key] }) { return known }
        let source = source(weekly: key.weekly)
        let labels = DigestLabels.for(key.language)
        let titles = key.papers.map { source.entries[$0].paper.title.decodingTeXMath }
        let title = DigestMarkdown.shortened(titles[0], limit: 40)
        let date = DigestMarkdown.dates(source, labels)
        let name = source.weekStart == nil ? (key.language == .zh ? "ArXiv AI 日报" : "ArXiv AI Daily") : labels.weeklyName
        let subject =
            switch key.language {
            case .zh: "\(name) \(date)｜\(key.picked) 篇精选：\(title)"
            case .en: "\(name) \(date) | \(key.picked) \(key.picked == 1 ? "pick" : "picks"): \(title)"
            }
        // The preview line mail programs show under the subject: what is inside, not the
        // subject again.
        let preheader = titles.map { DigestMarkdown.shortened($0, limit: 60) }.joined(separator: " · ").linkInert
        let made = (MIMEEncoding.headerText(subject), preheader)
        headings.withLock { $0[key] = made }
        return made
    }

    private func source(weekly: Bool) -> Digest {
        weekly ? week ?? digest : digest
    }

    private func renderBlocks(_ keys: [BlockKey]) -> [Piece] {
        let weekly = keys[0].weekly
        let language = keys[0].language
        let source = source(weekly: weekly)
        func item(_ key: BlockKey) -> DigestMarkdown.Item {
            let entry = source.entries[key.paper]
            return DigestMarkdown.Item(
                entry: entry, rank: key.rank, readerCategories: key.via.map { [$0] } ?? [entry.paper.primaryCategory],
                why: key.why ? Slot.placeholder(.why(paper: entry.paper.id)) : nil)
        }
        let mustRead = keys.filter(\.mustRead)
        let more = keys.filter { !$0.mustRead }
        let rendered = Self.parts(
            markdown, source, language: language, categories: nil, picked: keys.count, mustRead: mustRead.map(item), more: more.map(item),
            cut: true)
        // Both cuts give the must-reads first, then the rows.
        let text = Self.cut(rendered.text, tableRows: false).pieces.map(Self.trimmingBlankLines)
        let html = Self.cut(rendered.html, tableRows: true).pieces
        // The template's markers were checked when the pieces were set up, so there is one
        // piece per paper.
        let byKey = Dictionary(
            zip(mustRead + more, zip(text, html)).map { ($0, piece(text: $1.0, html: $1.1, language: language, isFinal: false)) },
            uniquingKeysWith: { first, _ in first })
        return keys.map { byKey[$0] ?? piece(text: "", html: "", language: language, isFinal: false) }
    }

    private func renderFrame(_ key: FrameKey) -> Frame {
        let source = source(weekly: key.weekly)
        let labels = DigestLabels.for(key.language)
        // One stand-in paper in each list that has papers, cut out again below: what is left
        // is the frame, and where the stand-ins were is where the reader's papers go.
        let standIn = DigestMarkdown.Item(entry: source.entries[0], rank: 1, readerCategories: key.categories, why: nil)
        let rendered = Self.parts(
            markdown, source, language: key.language, categories: key.categories, picked: key.picked,
            mustRead: key.hasMustRead ? [standIn] : [], more: key.hasMore ? [standIn] : [], cut: true)
        let categoryNames = key.categories.map { DigestMarkdown.tag($0, key.language) }.joined(separator: ", ")
        var context: [String: Any] = [
            "lang": key.language == .zh ? "zh-CN" : "en",
            "title": source.weekStart == nil ? labels.title : labels.weeklyTitle,
            "preheader": "\(labels.mustRead): \(SlotMarker.marker(.preheader))",
            "greeting": SlotMarker.marker(.greeting),
            "unsubscribe_url": SlotMarker.marker(.unsubscribeURL),
            "preferences_url": SlotMarker.marker(.preferencesURL),
            // The reader's own edition on the web: these papers, these numbers, this language.
            "archive_url": key.personal
                ? SlotMarker.marker(.editionURL)
                : settings.baseURL
                    + EditionLink(day: source.day, categories: key.categories, language: key.language, weekly: key.weekly).path(key: serverSecret),
            "subscribed_to": labels.subscribedTo,
            "categories": categoryNames,
            // The text part's footer wraps at 78 columns like its body.
            "subscribed_line": "\(labels.subscribedTo) \(categoryNames)".wrapped(toColumns: 78),
            "sender": settings.mail.postalAddress.map { "\(settings.mail.from.displayName ?? labels.brand) · \($0)" } ?? "",
            "archive_label": labels.archive,
            "preferences_label": labels.preferences,
            "unsubscribe_label": labels.unsubscribe,
        ]
        context["body"] = rendered.html
        let html = Self.cut(htmlTemplate.render(context), tableRows: true).frame
        context["body"] = rendered.text
        let text = Self.cut(textTemplate.render(context), tableRows: false).frame
        return Frame(
            top: piece(text: text[0], html: html[0], language: key.language, isFinal: false),
            middle: piece(text: text[1], html: html[1], language: key.language, isFinal: false),
            bottom: piece(text: text[2], html: html[2], language: key.language, isFinal: true))
    }

    private func piece(text: String, html: String, language: Language, isFinal: Bool) -> Piece {
        let encodings = encodings[language] ?? (.quotedPrintable, .quotedPrintable)
        return Piece(
            text: SplicedBody(text, encoding: encodings.text, isFinal: isFinal, wrapsSlotLines: true),
            html: SplicedBody(html, encoding: encodings.html, isFinal: isFinal), textSource: text, htmlSource: html)
    }

    /// The digest's body as the email's HTML and plain-text parts render it (slots marked, the
    /// text wrapped at 78 columns except the lines whose reader's words are not in yet).
    static func parts(
        _ markdown: DigestMarkdown, _ digest: Digest, language: Language, categories: [String]?, picked: Int, mustRead: [DigestMarkdown.Item],
        more: [DigestMarkdown.Item], cut: Bool
    ) -> (text: String, html: String) {
        // The digest's only links are arXiv's; the template adds this site's own around it.
        let html = EmailHTML.styled(
            fillingSlots(
                Markdown.html(
                    markdown.render(digest, language: language, categories: categories, picked: picked, mustRead: mustRead, more: more, plain: false, cut: cut),
                    links: LinkPolicy(prefixes: LinkPolicy.arxivAbstracts.prefixes + [Slot.placeholderPrefix])),
                html: true))
        let plain = fillingSlots(Markdown.plainText(
            markdown.render(digest, language: language, categories: categories, picked: picked, mustRead: mustRead, more: more, plain: true, cut: cut)))
        let whyMarker = "\(SlotMarker.open)why_"
        let text = plain.utf8Lines()
            .map { $0.containsUTF8(whyMarker) ? String($0) : String($0).wrapped(toColumns: 78) }.joined(separator: "\n")
        return (text, html)
    }

    /// Turns the Markdown's placeholders (feedback links, why lines) into slot markers. In HTML
    /// a link's `href` goes on a line of its own (a line break between attributes is just
    /// whitespace): the lines holding a slot are encoded again for every message, and a table
    /// row's whole line would be hundreds of bytes.
    static func fillingSlots(_ rendered: String, html: Bool = false) -> String {
        let prefix = Slot.placeholderPrefix
        guard rendered.containsUTF8(prefix) else { return rendered }
        var output = ""
        var rest = rendered[...]
        while let found = rest.firstUTF8Range(of: prefix) {
            let nameEnd = rest[found.upperBound...].firstIndex { !Self.isPlaceholderName($0) } ?? rest.endIndex
            guard let slot = Slot(name: String(rest[found.upperBound..<nameEnd])) else {
                output += rest[..<nameEnd]
                rest = rest[nameEnd...]
                continue
            }
            let before = rest[..<found.lowerBound]
            if html, case .feedback = slot, before.hasSuffix(" href=\""), rest[nameEnd...].first == "\"" {
                output += before.dropLast(7) + "\nhref=\"" + SlotMarker.marker(slot) + "\"\n"
                rest = rest[rest.index(after: nameEnd)...]
            } else {
                output += before + SlotMarker.marker(slot)
                rest = rest[nameEnd...]
            }
        }
        return output + rest
    }

    private static func isPlaceholderName(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "." || character == "/" || character == "_" || character == "-")
    }

    /// A rendering cut at its markers: the marked pieces in order (then an HTML table's rows,
    /// when `tableRows`), and what is around them in three parts: before the first list's end
    /// marker, from there to where the table's rows (or the second list) were, and the rest.
    static func cut(_ rendered: String, tableRows: Bool) -> (pieces: [String], frame: [String]) {
        let cut = SlotMarker.marker(.cut)
        let end = SlotMarker.marker(.cutEnd)
        let open = String(SlotMarker.open)
        var frame = [""]
        var pieces: [String] = []
        var current: String?
        var rows: [String] = []
        var row: String?
        var inTableBody = false
        // The pieces before an end marker end in a blank line already (see `trimmingBlankLines`).
        var afterEnd = false
        for line in rendered.utf8Lines().dropLast(rendered.utf8.last == 10 ? 1 : 0) {
            let line = String(line) + "\n"
            let marked = line.containsUTF8(open)
            let isEnd = marked && line.containsUTF8(end)
            defer { afterEnd = isEnd }
            if afterEnd && line == "\n" {
                continue
            } else if isEnd {
                if let piece = current { pieces.append(piece) }
                current = nil
                frame.append("")
            } else if marked && line.containsUTF8(cut) {
                if let piece = current { pieces.append(piece) }
                current = ""
            } else if current != nil {
                current! += line
            } else if tableRows && inTableBody && line == "<tr>\n" {
                row = line
            } else if row != nil {
                row! += line
                if line == "</tr>\n" {
                    rows.append(row!)
                    row = nil
                }
            } else {
                if tableRows && line == "</tbody>\n" {
                    inTableBody = false
                    frame.append("")
                }
                frame[frame.count - 1] += line
                if tableRows && line == "<tbody>\n" { inTableBody = true }
            }
        }
        if let piece = current { pieces.append(piece) }
        // Without a table (or a second list) the middle part is empty.
        while frame.count < 3 { frame.insert("", at: frame.count - 1) }
        return (pieces + rows, frame)
    }

    /// A plain-text block without the blank lines around it, then one blank line: blocks follow
    /// one another as paragraphs do.
    private static func trimmingBlankLines(_ piece: String) -> String {
        var lines = piece.utf8Lines().map(String.init)
        if lines.last == "" { lines.removeLast() }
        while lines.first == "" { lines.removeFirst() }
        while lines.last == "" { lines.removeLast() }
        return lines.map { $0 + "\n" }.joined() + (piece.isEmpty ? "" : "\n")
    }
}
