import Foundation
import PaperPostCore

/// One page of the arXiv export API's Atom response
/// (`https://export.arxiv.org/api/query?id_list=…` or `?search_query=…`).
public struct ArxivAPIResponse: Sendable {
    /// All matches of the query, not only this page's: the caller pages on until `startIndex` reaches it.
    public var totalResults: Int
    public var startIndex: Int
    public var itemsPerPage: Int
    /// Enriched papers, in the API's order.
    public var papers: [Paper]

    public init(totalResults: Int, startIndex: Int, itemsPerPage: Int, papers: [Paper]) {
        self.totalResults = totalResults
        self.startIndex = startIndex
        self.itemsPerPage = itemsPerPage
        self.papers = papers
    }

    /// An empty page (e.g. `id_list` of an id that does not exist) is a valid response; arXiv's error
    /// feed throws ``ArxivParseError/apiError(message:)``.
    public static func parse(_ data: Data) throws(ArxivParseError) -> ArxivAPIResponse {
        let feed = try XMLTree.root(of: data)
        try feed.requireAtomFeed()
        let entries = feed.all(.atom("entry"))
        // Checked before the totals, so that arXiv's message is what the operator sees even if the
        // error feed ever comes without them.
        if let error = entries.first(where: isErrorEntry) {
            throw .apiError(
                message: error.value(of: .atom("summary")) ?? error.value(of: .atom("id")) ?? "no message")
        }

        var papers: [Paper] = []
        papers.reserveCapacity(entries.count)
        for entry in entries {
            papers.append(try paper(from: entry))
        }
        return ArxivAPIResponse(
            totalResults: try count(.openSearch("totalResults"), in: feed),
            startIndex: try count(.openSearch("startIndex"), in: feed),
            itemsPerPage: try count(.openSearch("itemsPerPage"), in: feed),
            papers: papers)
    }

    /// arXiv reports a refused query as a feed with one entry titled `Error` whose id is a link into
    /// `https://arxiv.org/api/errors`; the title alone would also match a paper called "Error".
    private static func isErrorEntry(_ entry: XMLElementNode) -> Bool {
        guard let id = entry.value(of: .atom("id")) else { return false }
        return id.contains("arxiv.org/api/errors") || (entry.value(of: .atom("title")) == "Error" && ArxivIdentifier(id) == nil)
    }

    private static func count(_ name: QualifiedName, in feed: XMLElementNode) throws(ArxivParseError) -> Int {
        guard let element = feed.first(name) else {
            throw .notArxivDocument(reason: "it has no opensearch:\(name.name); not an arXiv API response")
        }
        guard let text = element.text.nonBlankNormalized(), let value = Int(text), value >= 0 else {
            throw .notArxivDocument(
                reason: "opensearch:\(name.name) at line \(element.line) is '\(element.text)', not a count")
        }
        return value
    }

    private static func paper(from entry: XMLElementNode) throws(ArxivParseError) -> Paper {
        guard let idText = entry.value(of: .atom("id")) else {
            throw .invalidEntry(line: entry.line, reason: "an entry without an <id>")
        }
        guard let identifier = ArxivIdentifier(idText) else {
            throw .invalidEntry(line: entry.line, reason: "the entry id '\(idText)' is not an arXiv id")
        }
        guard let version = identifier.version else {
            throw .invalidEntry(line: entry.line, reason: "the entry id '\(idText)' has no version")
        }
        let owner = "entry \(identifier.id)"
        return Paper(
            id: identifier.id,
            version: version,
            title: entry.value(of: .atom("title")) ?? "",
            abstract: entry.value(of: .atom("summary")) ?? "",
            authors: entry.all(.atom("author")).compactMap { $0.value(of: .atom("name")) },
            categories: entry.categoryTerms(after: entry.first(.arxiv("primary_category"))?.attributes["term"]),
            published: try entry.date(.atom("published"), of: owner),
            updated: try entry.date(.atom("updated"), of: owner),
            comment: entry.value(of: .arxiv("comment")),
            journalRef: entry.value(of: .arxiv("journal_ref")),
            doi: entry.value(of: .arxiv("doi")),
            enriched: true)
    }
}
