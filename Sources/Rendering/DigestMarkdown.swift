import Foundation
import Mustache
import PaperPostCore

/// A digest, or one reader's edition of it, as Markdown in the structure of the reference
/// digest: header with date and counts, the must-read papers with their five fields, a table of
/// further picks, and a footer. Numbering is continuous.
///
/// Everything from arXiv or the model is untrusted: the template's content type escapes it for
/// Markdown (so it cannot write a link, HTML or a table cell) and ``Swift/String/linkInert``
/// breaks the addresses in it for linkifiers. The only links are the arXiv abstract pages.
public struct DigestMarkdown: Sendable {
    let template: MustacheTemplate

    /// - Throws: ``RenderingError/template(_:)`` naming the file.
    public init(templatesDirectory: String?) throws(RenderingError) {
        _ = MarkdownContentType.registered
        template = try RenderingError.loading(templatesDirectory, "digest.md.mustache")
    }

    /// - Parameters:
    ///   - categories: a reader's categories: their best papers, numbered from 1; `nil` for the
    ///     whole digest (its global picks).
    ///   - plain: the variant the plain-text part is made from: bare URLs, and the further picks
    ///     as a list rather than a table.
    ///   - personal: the reader's own order and the reason for each move (see `PersonalRanker`);
    ///     `nil` for the day's edition for `categories`.
    ///   - feedback: put "more / less like this" links under each paper (placeholders that the
    ///     email composer turns into each reader's signed links); web pages have none.
    public func render(
        _ digest: Digest, language: Language, categories: [String]? = nil, personal: PersonalEdition? = nil, plain: Bool = false,
        feedback: Bool = false
    ) -> String {
        template.render(Self.context(digest, language: language, categories: categories, personal: personal, plain: plain, feedback: feedback))
    }

    /// One paper as an edition shows it.
    struct Item {
        var entry: DigestEntry
        var rank: Int
        /// The reader's categories, for the "via" tag of a paper filed elsewhere; `nil` in the
        /// whole digest.
        var readerCategories: [String]?
        /// The line saying why it moved, ready for the template (link-inert, or a slot's
        /// placeholder).
        var why: String?
    }

    /// Papers laid out by the caller (ranks, tags and reasons given), with cut markers when
    /// `cut`: how ``EditionPieces`` renders a frame or one paper's block.
    func render(
        _ digest: Digest, language: Language, categories: [String]?, picked: Int, mustRead: [Item], more: [Item], plain: Bool, cut: Bool
    ) -> String {
        template.render(Self.context(
            digest, language: language, categories: categories, picked: picked, mustRead: mustRead, more: more, plain: plain, feedback: true,
            cut: cut))
    }

    static func context(
        _ digest: Digest, language: Language, categories: [String]?, personal: PersonalEdition? = nil, plain: Bool, feedback: Bool = false
    ) -> [String: Any] {
        let labels = DigestLabels.for(language)
        let (mustRead, more) =
            personal.map { Self.entries(of: $0, in: digest) } ?? categories.map(digest.edition(for:))
            ?? (Array(digest.picks.prefix(digest.mustRead)), Array(digest.picks.dropFirst(digest.mustRead)))
        func item(_ entry: DigestEntry, rank: Int) -> Item {
            Item(entry: entry, rank: rank, readerCategories: categories, why: personal?.reasons[entry.paper.id].map { labels.why($0).linkInert })
        }
        return context(
            digest, language: language, categories: categories, picked: mustRead.count + more.count,
            mustRead: mustRead.enumerated().map { item($1, rank: $0 + 1) },
            more: more.enumerated().map { item($1, rank: mustRead.count + $0 + 1) }, plain: plain, feedback: feedback)
    }

    /// - Parameter cut: put a cut marker (``SlotMarker/cut``) on a line of its own before each
    ///   paper and after each list, for ``EditionPieces`` to cut the rendered edition into blocks.
    static func context(
        _ digest: Digest, language: Language, categories: [String]?, picked: Int, mustRead: [Item], more: [Item], plain: Bool,
        feedback: Bool, cut: Bool = false
    ) -> [String: Any] {
        let labels = DigestLabels.for(language)
        func feedbackLinks(_ entry: DigestEntry) -> [String: String]? {
            guard feedback else { return nil }
            return [
                "up_url": Slot.placeholderURL(paper: entry.paper.id, vote: .up), "up_label": labels.moreLikeThis,
                "down_url": Slot.placeholderURL(paper: entry.paper.id, vote: .down), "down_label": labels.lessLikeThis,
            ]
        }
        let shownCategories = categories ?? digest.categories
        var context: [String: Any] = [
            "title": digest.weekStart == nil ? labels.title : labels.weeklyTitle,
            "date": Self.dates(digest, labels),
            "scanned_picked": categories == nil ? labels.scannedPicked : digest.weekStart == nil ? labels.scannedPickedForYou : labels.scannedPickedThisWeek,
            "scanned": digest.scanned,
            "picked": picked,
            "tokens": digest.usage.totalTokens.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))),
            // `nil` means prices are not configured; a priced digest that spent nothing shows ¥0.0000.
            "cost": digest.usage.cost.map { Self.money($0, currency: digest.usage.currency) } ?? labels.notPriced,
            "plain": plain,
            "must_read_label": labels.mustRead,
            "also_label": labels.alsoWorth,
            "paper_label": labels.paper,
            "reason_label": labels.reason,
            "brand": labels.brand,
            "scanned_label": labels.scanned,
            "footer_categories": shownCategories.joined(separator: " / "),
            "day": digest.weekStart.map { "\($0) – \(digest.day)" } ?? digest.day.description,
        ]
        // The operator's fallback after a failed model is named as such, whatever the mode.
        if digest.modelFailure != nil {
            context["banner"] = labels.fallbackBanner
        } else if digest.mode == .heuristic {
            context["banner"] = labels.heuristicBanner
        } else if digest.mode == .mixed {
            context["banner"] = labels.mixedBanner
        }
        if cut {
            context["cut"] = SlotMarker.marker(.cut)
            context["must_read_end"] = SlotMarker.marker(.cutEnd)
            context["more_end"] = SlotMarker.marker(.cutEnd)
        }
        context["must_read"] = mustRead.map { shown in
            let entry = shown.entry
            var item: [String: Any] = [
                "rank": shown.rank,
                "title": entry.paper.title.decodingTeXMath.linkInert,
                "tag": tag(entry.paper, language, reader: shown.readerCategories, labels),
                "url": entry.paper.absURL,
                "authors": authors(entry.paper.authors, labels).linkInert,
            ]
            if let why = shown.why { item["why"] = why }
            if let links = feedbackLinks(entry) { item["feedback"] = links }
            if let summary = entry.summaries[language] {
                var fields: [[String: String]] = []
                func add(_ field: Summary.Field, _ label: String, _ text: String) {
                    var shown = ["label": label, "text": text.decodingTeXMath.linkInert]
                    if summary.isOriginal(field) { shown["original"] = labels.original }
                    fields.append(shown)
                }
                if let label = labels.fields.title, summary.title.decodingTeXMath != entry.paper.title.decodingTeXMath {
                    add(.title, label, summary.title)
                }
                add(.background, labels.fields.background, summary.background)
                add(.innovation, labels.fields.innovation, summary.innovation)
                add(.details, labels.fields.details, summary.details)
                add(.results, labels.fields.results, summary.results)
                item["fields"] = fields
            } else if let reason = entry.reasons[language] {
                item["fields"] = [["label": labels.reason, "text": reason.decodingTeXMath.linkInert]]
            }
            return item
        }
        context["more"] = more.map { shown in
            let entry = shown.entry
            var item: [String: Any] = [
                "rank": shown.rank,
                "title": entry.paper.title.decodingTeXMath.linkInert,
                "short_title": shortened(entry.paper.title.decodingTeXMath).linkInert,
                "tag": tag(entry.paper, language, reader: shown.readerCategories, labels),
                "url": entry.paper.absURL,
                "reason": (entry.reasons[language] ?? "").decodingTeXMath.linkInert,
            ]
            if let why = shown.why { item["why"] = why }
            if let links = feedbackLinks(entry) { item["feedback"] = links }
            return item
        }
        context["has_must_read"] = !mustRead.isEmpty
        context["has_more"] = !more.isEmpty
        // Written by curation, but they may quote an endpoint's answer: untrusted like the rest.
        context["notes"] = digest.notes.map(\.linkInert)
        context["has_notes"] = !digest.notes.isEmpty
        context["notes_label"] = labels.notes
        return context
    }

    /// `2026-02-20 周五`, or for a weekly edition `2026-02-14 – 2026-02-20`.
    static func dates(_ digest: Digest, _ labels: DigestLabels) -> String {
        if let start = digest.weekStart { return "\(start) – \(digest.day)" }
        return "\(digest.day) \(labels.weekdays[digest.day.weekday - 1])"
    }

    /// A personal edition's papers as the digest's entries, in its order.
    static func entries(of edition: PersonalEdition, in digest: Digest) -> (mustRead: [DigestEntry], more: [DigestEntry]) {
        let byID = Dictionary(digest.entries.map { ($0.paper.id, $0) }, uniquingKeysWith: { first, _ in first })
        return (edition.mustRead.compactMap { byID[$0] }, edition.more.compactMap { byID[$0] })
    }

    /// The paper's tag, and in a reader's edition the reader's category that brought it in
    /// when the paper is filed elsewhere: `cs.SE (Software Engineering) · via cs.AI`.
    static func tag(_ paper: Paper, _ language: Language, reader categories: [String]?, _ labels: DigestLabels) -> String {
        let primary = tag(paper.primaryCategory, language)
        guard let categories, !categories.contains(paper.primaryCategory),
            let via = paper.categories.first(where: categories.contains)
        else { return primary }
        return "\(primary) · \(labels.via) \(tag(via, language).prefix { $0 != " " })"
    }

    /// `cs.AI (人工智能)` / `cs.AI (Artificial Intelligence)`; a code missing from the table stays bare.
    /// It goes into a code span unescaped, so a code from a feed keeps only the characters arXiv
    /// uses in category codes (a backtick cannot end the span), and is made link-inert.
    static func tag(_ code: String, _ language: Language) -> String {
        if let category = ArxivCategory.named(code) {
            return "\(code) (\(category.name(in: language)))"
        }
        let kept = code.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "-") }
        return String(String.UnicodeScalarView(kept)).linkInert
    }

    /// The first three authors, then `等` / `et al.`.
    static func authors(_ names: [String], _ labels: DigestLabels) -> String {
        let shown = names.prefix(3).map(\.decodingTeXAccents).joined(separator: ", ")
        return names.count <= 3 ? shown : shown + labels.etAl
    }

    /// Cut at a word boundary near 80 characters, with `…`.
    static func shortened(_ title: String, limit: Int = 80) -> String {
        guard title.count > limit else { return title }
        let head = title.prefix(limit)
        let cut = head.lastIndex(of: " ").map { head[..<$0] } ?? head
        return cut.trimmingCharacters(in: CharacterSet(charactersIn: " ,;:-–—")) + "…"
    }

    static func money(_ amount: Double, currency: String) -> String {
        let signs = ["CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£"]
        let number = String(format: "%.4f", amount)
        return signs[currency].map { $0 + number } ?? "\(currency) \(number)"
    }
}

/// A template cannot be used.
public enum RenderingError: Error, Sendable, CustomStringConvertible {
    case template(String)

    public var description: String {
        switch self {
        case .template(let message): message
        }
    }

    /// `name` from the override directory (`PAPERPOST_TEMPLATES`) or the built-in copy.
    static func loading(_ directory: String?, _ name: String) throws(RenderingError) -> MustacheTemplate {
        let files = TemplateFiles(directory: directory)
        do {
            return try MustacheTemplate(string: try files.text(name))
        } catch {
            throw .template("cannot use the template \(files.origin(name)): \(error)")
        }
    }
}
