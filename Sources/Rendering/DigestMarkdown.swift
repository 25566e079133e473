import Foundation
import Mustache
import PaperPostCore

/// A digest, or one reader's edition of it, as Markdown in the structure of the reference
/// digest: header with date and counts, the must-read papers with their five fields, a table of
/// further picks, and a footer. Numbering is continuous.
public struct DigestMarkdown: Sendable {
    let template: MustacheTemplate

    /// - Throws: ``RenderingError/template(_:)`` naming the file.
    public init(templatesDirectory: String) throws(RenderingError) {
        _ = MarkdownContentType.registered
        template = try RenderingError.loading(templatesDirectory, "digest.md.mustache")
    }

    /// - Parameters:
    ///   - categories: a reader's categories: their best papers, numbered from 1; `nil` for the
    ///     whole digest (its global picks).
    ///   - plain: the variant the plain-text part is made from: bare URLs, and the further picks
    ///     as a list rather than a table.
    public func render(_ digest: Digest, language: Language, categories: [String]? = nil, plain: Bool = false) -> String {
        template.render(Self.context(digest, language: language, categories: categories, plain: plain))
    }

    static func context(_ digest: Digest, language: Language, categories: [String]?, plain: Bool) -> [String: Any] {
        let labels = DigestLabels.for(language)
        let (mustRead, more) = categories.map(digest.edition(for:)) ?? (Array(digest.picks.prefix(digest.mustRead)), Array(digest.picks.dropFirst(digest.mustRead)))
        let shownCategories = categories ?? digest.categories
        var context: [String: Any] = [
            "title": labels.title,
            "date": "\(digest.day) \(labels.weekdays[digest.day.weekday - 1])",
            "scanned_picked": labels.scannedPicked,
            "scanned": digest.scanned,
            "picked": mustRead.count + more.count,
            "tokens": digest.usage.totalTokens.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))),
            "plain": plain,
            "must_read_label": labels.mustRead,
            "also_label": labels.alsoWorth,
            "paper_label": labels.paper,
            "reason_label": labels.reason,
            "brand": labels.brand,
            "scanned_label": labels.scanned,
            "footer_categories": shownCategories.joined(separator: " / "),
            "day": digest.day.description,
        ]
        if let cost = digest.usage.cost {
            context["cost"] = Self.money(cost, currency: digest.usage.currency)
        }
        switch digest.mode {
        case .heuristic: context["banner"] = labels.heuristicBanner
        case .mixed: context["banner"] = labels.mixedBanner
        case .llm: break
        }
        context["must_read"] = mustRead.enumerated().map { index, entry in
            var item: [String: Any] = [
                "rank": index + 1,
                "title": entry.paper.title,
                "tag": tag(entry.paper.primaryCategory, language),
                "url": entry.paper.absURL,
                "authors": authors(entry.paper.authors, labels),
            ]
            if let summary = entry.summaries[language] {
                var fields: [[String: String]] = []
                if let label = labels.fields.title, summary.title != entry.paper.title {
                    fields.append(["label": label, "text": summary.title])
                }
                fields += [
                    ["label": labels.fields.background, "text": summary.background],
                    ["label": labels.fields.innovation, "text": summary.innovation],
                    ["label": labels.fields.details, "text": summary.details],
                    ["label": labels.fields.results, "text": summary.results],
                ]
                item["fields"] = fields
            } else if let reason = entry.reasons[language] {
                item["fields"] = [["label": labels.reason, "text": reason]]
            }
            return item
        }
        context["more"] = more.enumerated().map { index, entry in
            [
                "rank": mustRead.count + index + 1,
                "title": entry.paper.title,
                "short_title": shortened(entry.paper.title),
                "tag": tag(entry.paper.primaryCategory, language),
                "url": entry.paper.absURL,
                "reason": entry.reasons[language] ?? "",
            ] as [String: Any]
        }
        context["has_must_read"] = !mustRead.isEmpty
        context["has_more"] = !more.isEmpty
        return context
    }

    /// `cs.AI (人工智能)` / `cs.AI (Artificial Intelligence)`; a code missing from the table stays bare.
    static func tag(_ code: String, _ language: Language) -> String {
        ArxivCategory.named(code).map { "\(code) (\($0.name(in: language)))" } ?? code
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

    static func loading(_ directory: String, _ name: String) throws(RenderingError) -> MustacheTemplate {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        do {
            return try MustacheTemplate(string: try String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw .template("cannot use the template '\(path)': \(error) (set PAPERPOST_TEMPLATES to the templates directory)")
        }
    }
}
