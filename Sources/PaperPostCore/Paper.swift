import Foundation

/// One arXiv paper, keyed by its identifier without version (`2602.17547`, `astro-ph/0601001`).
///
/// A paper comes first from the announcement feed (title, abstract, authors, categories) and is
/// then enriched from the arXiv API (primary category, comment, journal reference, DOI, dates).
/// ``enriched`` tells which of the two a stored paper has been through.
public struct Paper: Sendable, Hashable, Codable {
    public var id: String
    public var version: Int
    public var title: String
    public var abstract: String
    public var authors: [String]
    /// The primary category first, then the cross-lists in the order arXiv gives them.
    public var categories: [String]
    public var published: Date?
    public var updated: Date?
    public var comment: String?
    public var journalRef: String?
    public var doi: String?
    public var enriched: Bool

    public init(
        id: String, version: Int, title: String, abstract: String, authors: [String],
        categories: [String], published: Date? = nil, updated: Date? = nil,
        comment: String? = nil, journalRef: String? = nil, doi: String? = nil, enriched: Bool = false
    ) {
        self.id = id
        self.version = version
        self.title = title
        self.abstract = abstract
        self.authors = authors
        self.categories = categories
        self.published = published
        self.updated = updated
        self.comment = comment
        self.journalRef = journalRef
        self.doi = doi
        self.enriched = enriched
    }

    public var primaryCategory: String { categories.first ?? "" }
    public var absURL: String { "https://arxiv.org/abs/\(id)v\(version)" }
    public var pdfURL: String { "https://arxiv.org/pdf/\(id)v\(version)" }
}
