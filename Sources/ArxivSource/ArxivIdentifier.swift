/// An arXiv identifier split into the versionless id PaperPost keys papers by and the version.
///
/// arXiv spells the same identifier differently in each document (`oai:arXiv.org:2508.13143v1` in the
/// announcement feed, `http://arxiv.org/abs/2202.12139v1` or `https://…` in the API, old-style
/// `astro-ph/0601001v1` in both), so both parsers go through this one type.
struct ArxivIdentifier: Hashable, Sendable {
    /// `2508.13143`, `astro-ph/0601001`.
    var id: String
    /// Nil when the spelling carries no version, e.g. the feed's abs link.
    var version: Int?

    /// Prefixes seen in arXiv documents, compared case-insensitively because `arXiv.org` and `arxiv.org`
    /// both occur.
    private static let prefixes = [
        "oai:arxiv.org:", "arxiv:",
        "https://arxiv.org/abs/", "http://arxiv.org/abs/",
        "https://export.arxiv.org/abs/", "http://export.arxiv.org/abs/",
        "https://www.arxiv.org/abs/", "http://www.arxiv.org/abs/",
    ]

    /// Nil unless the text is a recognisable arXiv identifier, so that a URL of some other site or an
    /// error link (`https://arxiv.org/api/errors#…`) is never taken for a paper.
    init?(_ text: some StringProtocol) {
        var rest = Substring(text).trimmingASCIIWhitespace()
        let lowered = rest.lowercased()
        if let prefix = Self.prefixes.first(where: { lowered.hasPrefix($0) }) {
            rest = rest.dropFirst(prefix.count)
        }

        var version: Int?
        if let v = rest.lastIndex(of: "v"), rest.index(after: v) < rest.endIndex,
           rest[rest.index(after: v)...].allSatisfy(\.isASCIIDigit),
           let number = Int(rest[rest.index(after: v)...]) {
            guard number >= 1 else { return nil }
            version = number
            rest = rest[..<v]
        }
        guard Self.isNewStyle(rest) || Self.isOldStyle(rest) else { return nil }
        self.id = String(rest)
        self.version = version
    }

    /// `YYMM.NNNN` (2007–2014) or `YYMM.NNNNN` (since 2015).
    private static func isNewStyle(_ id: Substring) -> Bool {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2
            && parts[0].count == 4 && parts[0].allSatisfy(\.isASCIIDigit)
            && (4...5).contains(parts[1].count) && parts[1].allSatisfy(\.isASCIIDigit)
    }

    /// `archive/YYMMNNN` or `archive.XX/YYMMNNN`, e.g. `hep-th/9901001`, `math.AG/0601001` (before 2007).
    private static func isOldStyle(_ id: Substring) -> Bool {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 7, parts[1].allSatisfy(\.isASCIIDigit) else { return false }
        let archive = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard let name = archive.first, let first = name.first, first.isASCIILowercaseLetter,
              name.allSatisfy({ $0.isASCIILowercaseLetter || $0 == "-" })
        else { return false }
        switch archive.count {
        case 1: return true
        case 2: return archive[1].count == 2 && archive[1].allSatisfy { $0.isASCII && $0.isUppercase }
        default: return false
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isWholeNumber }
    var isASCIILowercaseLetter: Bool { isASCII && isLowercase }
}
