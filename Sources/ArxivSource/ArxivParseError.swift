/// Why an arXiv document could not be turned into papers.
///
/// The cases separate who is at fault, because the operator's next step differs: a broken
/// download (`malformed`) is retried, a wrong URL or a changed arXiv format (`notArxivDocument`,
/// `invalidEntry`) needs a code or configuration change, and `apiError` is arXiv refusing the query.
public enum ArxivParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not well-formed XML; the position is XMLParser's own, so it points into the downloaded body.
    case malformed(line: Int, column: Int, reason: String)
    /// Well-formed XML, but not an Atom feed of the kind the caller asked to parse.
    case notArxivDocument(reason: String)
    /// One entry cannot be used; the line is where the entry starts. The whole document is rejected
    /// rather than the entry skipped, so that a format change is noticed instead of papers going missing.
    case invalidEntry(line: Int, reason: String)
    /// arXiv's own error feed (sent with HTTP 400), e.g. for a malformed id in `id_list`.
    case apiError(message: String)
    /// Elements nest deeper than `maxDepth` at `line`. No arXiv document comes close, so the
    /// document is refused before its tree can grow without bound.
    case tooDeep(line: Int, maxDepth: Int)
    /// The announcement feed has no date of its own, and its entries do not agree on one; it is
    /// not today's announcement merely because it was read today.
    case undated(reason: String)
    /// The feed's date is later than any announcement can be yet (a broken or hostile feed that
    /// would otherwise stay the latest announcement for good).
    case dateInFuture(date: String, now: String)

    public var description: String {
        switch self {
        case let .malformed(line, column, reason):
            "malformed XML at line \(line), column \(column): \(reason)"
        case let .notArxivDocument(reason):
            "not an arXiv document of the expected kind: \(reason)"
        case let .invalidEntry(line, reason):
            "invalid arXiv entry at line \(line): \(reason)"
        case let .apiError(message):
            "the arXiv API reported an error: \(message)"
        case let .tooDeep(line, maxDepth):
            "the XML nests elements more than \(maxDepth) deep at line \(line); arXiv's documents are under 10 deep, so this is not one"
        case let .undated(reason):
            "the announcement feed has no date: \(reason); it cannot be recorded under a guessed day"
        case let .dateInFuture(date, now):
            "the announcement feed is dated \(date), in the future (it is now \(now)); refusing a date no announcement can have yet"
        }
    }
}
