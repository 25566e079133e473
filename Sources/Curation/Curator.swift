import PaperPostCore

/// A paper's score and one-line reasons.
public struct ScoredPaper: Sendable, Hashable {
    public var score: Double
    public var reasons: [Language: String]
    public var source: CurationSource
}

/// Which summary: a paper in a language.
public struct SummaryRequest: Sendable, Hashable {
    public var paper: Paper
    public var language: Language
}

/// Scores and summarises papers. Two implementations: ``LLMCurator`` asks the model, and
/// ``HeuristicCurator`` reads the abstract; the model's curator falls back to the heuristic
/// paper by paper, so curation always produces a complete digest.
public protocol Curator: Sendable {
    func score(_ papers: [Paper], languages: [Language]) async throws -> [String: ScoredPaper]
    func summarize(_ requests: [SummaryRequest]) async throws -> [SummaryRequest: Summary]
    /// What the digest should tell its readers and operator about how curation went.
    func notes() async -> [String]
    /// Why the model was given up on for the rest of the run; `nil` when it was not.
    func failure() async -> ModelStop?
}

extension HeuristicCurator: Curator {
    public func score(_ papers: [Paper], languages: [Language]) async -> [String: ScoredPaper] {
        Dictionary(uniqueKeysWithValues: papers.map { paper in
            (paper.id, ScoredPaper(
                score: score(paper),
                reasons: Dictionary(uniqueKeysWithValues: languages.map { ($0, reason(paper, language: $0)) }),
                source: .heuristic))
        })
    }

    public func summarize(_ requests: [SummaryRequest]) async -> [SummaryRequest: Summary] {
        Dictionary(uniqueKeysWithValues: requests.map { ($0, summary($0.paper)) })
    }

    public func notes() async -> [String] { [] }

    public func failure() async -> ModelStop? { nil }
}

/// Runs `transform` over `items` with at most `limit` running at once, keeping the order.
func concurrentMap<T: Sendable, R: Sendable>(
    _ items: [T], limit: Int, _ transform: @escaping @Sendable (T) async throws -> R
) async throws -> [R] {
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        func start() {
            let index = next
            group.addTask { (index, try await transform(items[index])) }
            next += 1
        }
        while next < min(max(1, limit), items.count) { start() }
        while let (index, result) = try await group.next() {
            results[index] = result
            if next < items.count { start() }
        }
        return results.map { $0! }
    }
}
