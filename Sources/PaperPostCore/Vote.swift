/// A reader's "more like this" or "less like this" on a paper, from the links under it in
/// every email. One per reader and paper: the last one stands.
public enum Vote: Int, Sendable, Hashable, CaseIterable {
    case up = 1
    case down = -1

    public var name: String { self == .up ? "up" : "down" }

    public init?(name: String) {
        switch name {
        case "up": self = .up
        case "down": self = .down
        default: return nil
        }
    }

    /// What a feedback link's token signs: the paper and the vote (`2602.17547 up`).
    public static func subject(paper: String, _ vote: Vote) -> String {
        "\(paper) \(vote.name)"
    }

    /// The paper and vote a feedback token names, if its subject is one.
    public static func parse(subject: String) -> (paper: String, vote: Vote)? {
        guard let space = subject.lastIndex(of: " "), let vote = Vote(name: String(subject[subject.index(after: space)...])) else { return nil }
        let paper = String(subject[..<space])
        return paper.isEmpty ? nil : (paper, vote)
    }
}

/// A paper a reader voted on, as their taste is made from it.
public struct VotedPaper: Sendable, Hashable {
    public var title: String
    public var abstract: String
    public var vote: Vote

    public init(title: String, abstract: String, vote: Vote) {
        self.title = title
        self.abstract = abstract
        self.vote = vote
    }
}
