import Foundation
import PaperPostCore

/// A reader's taste as term weights: the papers they voted up minus those they voted down,
/// each as a unit vector of its words, so that one long abstract does not outweigh several
/// short ones. Kept to the strongest ``maximumTerms`` words and stored per reader (made again
/// on each vote), so ranking reads one small vector rather than their whole history.
public enum TasteProfile {
    public static let maximumTerms = 300

    public static func vector(_ voted: [VotedPaper]) -> [String: Double] {
        var sum: [String: Double] = [:]
        for paper in voted {
            for (term, weight) in unitVector(title: paper.title, abstract: paper.abstract) {
                sum[term, default: 0] += weight * Double(paper.vote.rawValue)
            }
        }
        let kept = sum.filter { abs($0.value) > 1e-9 }.sorted { (abs($0.value), $1.key) > (abs($1.value), $0.key) }.prefix(maximumTerms)
        let norm = kept.map { $0.value * $0.value }.reduce(0, +).squareRoot()
        guard norm > 0 else { return [:] }
        // Rounded so that the stored text stays short and the same votes give the same text.
        return Dictionary(uniqueKeysWithValues: kept.map { ($0.key, ($0.value / norm * 1e4).rounded() / 1e4) }).filter { $0.value != 0 }
    }

    /// A paper's words as a unit vector of log term frequencies (title words counted twice).
    static func unitVector(title: String, abstract: String) -> [String: Double] {
        var counts: [String: Int] = [:]
        for term in Terms.of(title) { counts[String(term), default: 0] += 2 }
        for term in Terms.of(abstract) { counts[String(term), default: 0] += 1 }
        var vector = counts.mapValues { 1 + log(Double($0)) }
        let norm = vector.values.map { $0 * $0 }.reduce(0, +).squareRoot()
        guard norm > 0 else { return [:] }
        for key in vector.keys { vector[key]! /= norm }
        return vector
    }
}
