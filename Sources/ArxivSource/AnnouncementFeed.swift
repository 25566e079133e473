import Foundation
import PaperPostCore

/// One day's announcement from arXiv's Atom feed (`https://rss.arxiv.org/atom/cs.AI+cs.CL+cs.LG`).
public struct AnnouncementFeed: Sendable {
    /// The feed's own `<updated>`: when arXiv built it, which identifies the announcement it describes.
    public var updated: Date?
    /// Days on which arXiv announces nothing, when the feed says so (e.g. `["Saturday", "Sunday"]`).
    public var skipDays: [String]
    public var entries: [AnnouncedPaper]
    /// The categories the feed covers, as its id names them (`…/atom/cs.AI+cs.CL`); empty when
    /// the id does not say.
    public var categories: [String]

    public init(updated: Date?, skipDays: [String], entries: [AnnouncedPaper], categories: [String] = []) {
        self.updated = updated
        self.skipDays = skipDays
        self.entries = entries
        self.categories = categories
    }

    /// A feed without entries is valid (arXiv announces nothing on some days); a document that is not
    /// an arXiv announcement feed, or has an entry PaperPost cannot use, is an error.
    public static func parse(_ data: Data) throws(ArxivParseError) -> AnnouncementFeed {
        let feed = try XMLTree.root(of: data)
        try feed.requireAtomFeed()
        if feed.first(.openSearch("totalResults")) != nil {
            throw .notArxivDocument(
                reason: "this is an arXiv API response (it has opensearch:totalResults), not an announcement feed")
        }
        let feedID = feed.value(of: .atom("id")) ?? ""
        guard feedID.lowercased().contains("arxiv.org") else {
            throw .notArxivDocument(reason: "the feed id '\(feedID)' is not an arXiv feed's")
        }
        let entryElements = feed.all(.atom("entry"))
        if !entryElements.isEmpty, !entryElements.contains(where: { $0.first(.arxiv("announce_type")) != nil }) {
            throw .notArxivDocument(
                reason: "none of its \(entryElements.count) entries has an arxiv:announce_type; not an announcement feed")
        }

        var entries: [AnnouncedPaper] = []
        entries.reserveCapacity(entryElements.count)
        for element in entryElements {
            entries.append(try entry(from: element))
        }
        return AnnouncementFeed(
            updated: try feed.date(.atom("updated"), of: "the feed"),
            skipDays: skipDays(in: feed),
            entries: entries,
            categories: feedID.split(separator: "/").last.map { $0.split(separator: "+").map(String.init) } ?? [])
    }

    /// How far ahead of the clock a feed's date may be: arXiv dates a feed when it builds it, so
    /// anything beyond clock skew and time zones is a broken or hostile feed.
    public static let maxFutureSkew: TimeInterval = 2 * 86_400

    /// The arXiv mailing day this feed announces, under which its papers are recorded.
    ///
    /// The feed's own `<updated>` names it. A feed without one is dated by its entries' `<published>`,
    /// which arXiv sets to the announcement day's midnight (US Eastern), provided they all agree. A
    /// feed dated neither way is refused rather than recorded under the day it happened to be read,
    /// and so is a date more than ``maxFutureSkew`` after `now`, which would stay the latest
    /// announcement for good and hide every real one after it.
    public func announcementDay(now: Date = Date()) throws(ArxivParseError) -> Day {
        let date: Date
        if let updated {
            date = updated
        } else {
            guard !entries.isEmpty else {
                throw .undated(reason: "it has no <updated> and no entries whose <published> could date it")
            }
            var days: [Day: Date] = [:]
            for entry in entries {
                guard let published = entry.paper.published else {
                    throw .undated(reason: "it has no <updated>, and entry \(entry.paper.id) has no <published>")
                }
                days[Day(published, in: Day.arxivTimeZone)] = published
            }
            guard days.count == 1, let only = days.first else {
                let listed = days.keys.sorted().map(\.description).joined(separator: ", ")
                throw .undated(
                    reason: "it has no <updated>, and its entries' <published> dates fall on \(days.count) different days (\(listed))")
            }
            date = only.value
        }
        guard date.timeIntervalSince(now) <= Self.maxFutureSkew else {
            let format = ISO8601DateFormatter()
            throw .dateInFuture(date: format.string(from: date), now: format.string(from: now))
        }
        return Day(date, in: Day.arxivTimeZone)
    }

    private static func entry(from element: XMLElementNode) throws(ArxivParseError) -> AnnouncedPaper {
        let line = element.line
        // The entry id (`oai:arXiv.org:2508.13143v1`) has the version; the abs link is the fallback.
        let alternate = element.all(.atom("link")).first { ($0.attributes["rel"] ?? "alternate") == "alternate" }
        let spellings = [element.value(of: .atom("id")), alternate?.attributes["href"]].compactMap { $0 }
        let identifiers = spellings.compactMap { ArxivIdentifier($0) }
        guard let identifier = identifiers.first else {
            let found = spellings.isEmpty ? "it has neither <id> nor an abs link" : "no arXiv id in \(spellings)"
            throw .invalidEntry(line: line, reason: "an entry without a usable id: \(found)")
        }
        guard let version = identifiers.lazy.compactMap(\.version).first else {
            throw .invalidEntry(line: line, reason: "entry \(identifier.id) has no version in \(spellings)")
        }

        guard let typeText = element.value(of: .arxiv("announce_type")) else {
            throw .invalidEntry(line: line, reason: "entry \(identifier.id) has no arxiv:announce_type")
        }
        guard let announceType = AnnounceType(rawValue: typeText) else {
            throw .invalidEntry(
                line: line, reason: "entry \(identifier.id) has the unknown announce type '\(typeText)'")
        }

        let paper = Paper(
            id: identifier.id,
            version: version,
            title: element.value(of: .atom("title")) ?? "",
            abstract: abstract(fromSummary: element.value(of: .atom("summary")) ?? ""),
            authors: element.all(.dublinCore("creator")).flatMap { CreatorList.split($0.text) },
            categories: element.categoryTerms(),
            published: try element.date(.atom("published"), of: "entry \(identifier.id)"),
            updated: try element.date(.atom("updated"), of: "entry \(identifier.id)"),
            enriched: false)
        return AnnouncedPaper(paper: paper, announceType: announceType)
    }

    /// Removes the feed's `arXiv:2508.13143v1 Announce Type: new Abstract: ` prefix, which restates the
    /// id and type for feed readers and is not part of the abstract. A summary without the prefix is kept
    /// whole rather than cut at a guess.
    static func abstract(fromSummary summary: String) -> String {
        guard summary.hasPrefix("arXiv:"),
              let type = summary.range(of: " Announce Type: "),
              let abstract = summary.range(of: "Abstract:", range: type.upperBound..<summary.endIndex),
              !summary[type.upperBound..<abstract.lowerBound].trimmingASCIIWhitespace().contains(" ")
        else { return summary }
        return String(summary[abstract.upperBound...].trimmingASCIIWhitespace())
    }

    /// RSS 2.0 puts `<skipDays><day>…` on the channel; matched by local name because where it appears in
    /// an Atom feed it would be in whatever namespace the feed declares as default.
    private static func skipDays(in feed: XMLElementNode) -> [String] {
        guard let skipDays = feed.children.first(where: { $0.name.name == "skipDays" }) else { return [] }
        return skipDays.children.filter { $0.name.name == "day" }.compactMap { $0.text.nonBlankNormalized() }
    }
}
