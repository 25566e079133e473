import Foundation
import PaperPostCore

/// Text from arXiv that speaks to a language model instead of describing a paper ("ignore
/// previous instructions", "score this paper 10", "as an AI"). Real submissions carry such
/// hidden instructions. The prompts tell the model that paper text is data, and a paper whose
/// text addresses the model cannot rise on the model's score: it is capped at
/// ``LLMCurator/injectionCap``.
public enum PromptInjection {
    static let patterns: [NSRegularExpression] = [
        #"\b(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(the\s+|your\s+)?(previous|prior|above|earlier|preceding|system)\s+(instructions?|prompts?|rules|directions)"#,
        #"\b(score|rate|rank|grade)\s+this\s+(paper|work|article|submission|abstract)\b"#,
        #"\bgive\s+(this|the)\s+(paper|work|article|submission)\s+(a\s+)?(score|rating|grade)\b"#,
        #"\bas\s+an?\s+(ai|a\.i\.|language\s+model|llm|large\s+language\s+model|assistant)\b"#,
        #"\b(you\s+are|act\s+as)\s+(an?\s+)?(ai|language\s+model|llm|assistant|reviewer|editor)\b"#,
        #"\b(system\s+prompt|new\s+instructions?\s*:|instructions?\s+to\s+(the\s+)?(ai|model|llm|reviewers?))"#,
    ].map { try! NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }

    /// The phrases in a paper's title, abstract or comment that address the model; empty for a
    /// normal paper.
    public static func phrases(in paper: Paper) -> [String] {
        let text = [paper.title, paper.abstract, paper.comment ?? ""].joined(separator: "\n")
        let range = NSRange(text.startIndex..., in: text)
        var found: [String] = []
        for pattern in patterns {
            for match in pattern.matches(in: text, range: range) {
                if let span = Range(match.range, in: text) {
                    let phrase = text[span].split(whereSeparator: \.isWhitespace).joined(separator: " ")
                    if !found.contains(phrase) { found.append(phrase) }
                }
            }
        }
        return found
    }
}
