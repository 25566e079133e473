import Foundation
import PaperPostCore

/// Curation without a model: scores from signals a reader would also look for, and summaries
/// made of the abstract's own sentences (the title stays untranslated). It is what runs without
/// an API key, after the spending cap, and for any paper the model could not handle.
public struct HeuristicCurator: Sendable {
    public init() {}

    /// Venues whose acceptance is worth a point, as they appear in arXiv comments.
    static let venues = [
        "NeurIPS", "ICML", "ICLR", "ACL", "EMNLP", "NAACL", "COLING", "CVPR", "ICCV", "ECCV", "AAAI", "IJCAI",
        "KDD", "SIGIR", "WWW", "TMLR", "JMLR", "TPAMI", "CoRL", "RSS", "ICRA", "IROS", "UAI", "AISTATS", "COLM",
    ]

    struct Signals {
        var venue: String?
        var accepted = false
        var code = false
        var benchmarkClaim = false
        var crossLists = 0
    }

    func signals(_ paper: Paper) -> Signals {
        let comment = paper.comment ?? ""
        let text = paper.abstract + " " + comment
        let lower = text.lowercased()
        var signals = Signals()
        signals.venue = Self.venues.first { venue in
            comment.range(of: "\\b\(venue)\\b", options: .regularExpression) != nil
        }
        signals.accepted = lower.contains("accepted") || signals.venue != nil
        signals.code = lower.contains("github.com") || lower.contains("code is available") || lower.contains("code and data")
            || lower.contains("open-source") || lower.contains("open source") || lower.contains("publicly available")
        signals.benchmarkClaim = ["state-of-the-art", "state of the art", "outperform", "sota", "surpass", "new benchmark"]
            .contains { lower.contains($0) }
        signals.crossLists = max(0, paper.categories.count - 1)
        return signals
    }

    /// A score from 1 to 10: 5 to start, +2 for an accepted paper, +1 for public code, +1 for
    /// a claim of beating existing methods, +0.5 per cross-listed category (at most +1).
    public func score(_ paper: Paper) -> Double {
        let signals = signals(paper)
        var score = 5.0
        if signals.accepted { score += 2 }
        if signals.code { score += 1 }
        if signals.benchmarkClaim { score += 1 }
        score += min(1, Double(signals.crossLists) * 0.5)
        return min(10, score)
    }

    public func reason(_ paper: Paper, language: Language) -> String {
        let signals = signals(paper)
        var parts: [String] = []
        switch language {
        case .zh:
            if signals.accepted { parts.append(signals.venue.map { "已被 \($0) 接收" } ?? "已被会议或期刊接收") }
            if signals.code { parts.append("公开代码") }
            if signals.benchmarkClaim { parts.append("声称优于现有方法") }
            if signals.crossLists > 0 { parts.append("跨 \(signals.crossLists + 1) 个类别") }
            return "启发式：" + (parts.isEmpty ? "无明显信号" : parts.joined(separator: "；")) + "。" + keySentence(paper)
        case .en:
            if signals.accepted { parts.append(signals.venue.map { "accepted at \($0)" } ?? "accepted for publication") }
            if signals.code { parts.append("code available") }
            if signals.benchmarkClaim { parts.append("claims to beat existing methods") }
            if signals.crossLists > 0 { parts.append("cross-listed in \(signals.crossLists + 1) categories") }
            return "Heuristic: " + (parts.isEmpty ? "no strong signal" : parts.joined(separator: "; ")) + ". " + keySentence(paper)
        }
    }

    /// The five fields from the abstract's sentences: what comes before "we propose" is the
    /// background, that sentence the innovation, then the method, and the sentences that report
    /// outcomes are the results.
    public func summary(_ paper: Paper) -> Summary {
        let sentences = Self.sentences(paper.abstract)
        guard !sentences.isEmpty else {
            return Summary(title: paper.title, background: paper.title, innovation: paper.title, details: paper.title, results: paper.title, source: .heuristic)
        }
        let proposal = sentences.firstIndex(where: Self.isProposal) ?? min(1, sentences.count - 1)
        let resultIndices = sentences.indices.filter { $0 > proposal && Self.isResult(sentences[$0]) }
        let background = sentences[..<proposal].suffix(2)
        let details = sentences.indices.filter { $0 > proposal && !resultIndices.contains($0) }.prefix(2).map { sentences[$0] }
        let results = resultIndices.suffix(2).map { sentences[$0] }
        return Summary(
            title: paper.title,
            background: (background.isEmpty ? [sentences[0]] : Array(background)).joined(separator: " "),
            innovation: sentences[proposal],
            details: (details.isEmpty ? [sentences[min(proposal + 1, sentences.count - 1)]] : details).joined(separator: " "),
            results: (results.isEmpty ? [sentences[sentences.count - 1]] : results).joined(separator: " "),
            source: .heuristic)
    }

    private func keySentence(_ paper: Paper) -> String {
        let sentences = Self.sentences(paper.abstract)
        guard let sentence = sentences.first(where: Self.isProposal) ?? sentences.first else { return "" }
        return sentence.count <= 200 ? sentence : String(sentence.prefix(199)) + "…"
    }

    static func isProposal(_ sentence: String) -> Bool {
        let lower = sentence.lowercased()
        return ["we propose", "we introduce", "we present", "we develop", "this paper", "in this work", "in this paper", "we design", "here we"]
            .contains { lower.contains($0) }
    }

    static func isResult(_ sentence: String) -> Bool {
        let lower = sentence.lowercased()
        return ["outperform", "achiev", "improv", "experiment", "results", "state-of-the-art", "demonstrat", "surpass", "show that", "%"]
            .contains { lower.contains($0) }
    }

    /// Splits English prose into sentences at `.`, `!` or `?` followed by a space and a capital
    /// letter or digit, which keeps "e.g. the" and "3.5" whole.
    static func sentences(_ text: String) -> [String] {
        var sentences: [String] = []
        var current = ""
        let characters = Array(text)
        for (index, character) in characters.enumerated() {
            current.append(character)
            guard ".!?".contains(character), index + 2 < characters.count, characters[index + 1] == " " else { continue }
            let next = characters[index + 2]
            if next.isUppercase || next.isNumber {
                sentences.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespaces)
        if !rest.isEmpty { sentences.append(rest) }
        return sentences
    }
}
