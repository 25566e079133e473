/// How a paper appears in a day's arXiv announcement. Only `new` and `cross` are news;
/// replacements are papers readers have already seen.
public enum AnnounceType: String, Sendable, Hashable, Codable, CaseIterable {
    case new
    case cross
    case replace
    case replaceCross = "replace-cross"
}

/// A paper as it appeared in an announcement. From the feed alone it is not enriched: the feed
/// has no comment, journal reference or DOI, and its dates are the announcement's, not the paper's.
public struct AnnouncedPaper: Sendable, Hashable {
    public var paper: Paper
    public var announceType: AnnounceType

    public init(paper: Paper, announceType: AnnounceType) {
        self.paper = paper
        self.announceType = announceType
    }
}
