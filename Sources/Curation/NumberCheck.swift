import Foundation
import PaperPostCore

/// Models sometimes add numbers an abstract never gave. Every number in a summary must appear
/// in the paper's title, abstract or comment; a sentence with one that does not is dropped.
/// Small whole numbers (up to 10) are let through: they count things ("three modules") and
/// number lists far more often than they report results.
enum NumberCheck {
    static let pattern = try! NSRegularExpression(pattern: "\\d[\\d,]*(?:\\.\\d+)?")

    static func numbers(in text: String) -> Set<String> {
        let range = NSRange(text.startIndex..., in: text)
        return Set(pattern.matches(in: text, range: range).compactMap { match in
            Range(match.range, in: text).map { text[$0].replacingOccurrences(of: ",", with: "") }
        })
    }

    /// The summary with offending sentences removed, and how many were removed. A field left
    /// empty takes the heuristic's (the abstract's own, English) sentence instead, and is
    /// marked in ``Summary/originalFields`` so that it is never shown unlabelled.
    static func checked(_ summary: Summary, against paper: Paper, fallback: Summary) -> (Summary, dropped: Int) {
        let known = numbers(in: paper.title + " " + paper.abstract + " " + (paper.comment ?? ""))
        var dropped = 0
        var original: Set<Summary.Field> = []
        func clean(_ field: String, _ fallbackField: String, _ name: Summary.Field) -> String {
            var kept: [String] = []
            for sentence in sentences(field) {
                let invented = numbers(in: sentence).filter { number in
                    !known.contains(number) && !(Double(number).map { $0 <= 10 && $0 == $0.rounded() } ?? false)
                }
                if invented.isEmpty {
                    kept.append(sentence)
                } else {
                    dropped += 1
                }
            }
            let text = kept.joined().trimmingCharacters(in: .whitespaces)
            if text.isEmpty { original.insert(name) }
            return text.isEmpty ? fallbackField : text
        }
        var result = summary
        result.background = clean(summary.background, fallback.background, .background)
        result.innovation = clean(summary.innovation, fallback.innovation, .innovation)
        result.details = clean(summary.details, fallback.details, .details)
        result.results = clean(summary.results, fallback.results, .results)
        result.originalFields = original
        return (result, dropped)
    }

    /// A one-line reason with its sentences holding invented numbers removed, and how many were
    /// removed; `nil` when nothing is left.
    static func checkedReason(_ reason: String, against paper: Paper) -> (String?, dropped: Int) {
        let known = numbers(in: paper.title + " " + paper.abstract + " " + (paper.comment ?? "") + " " + paper.id)
        var dropped = 0
        let kept = sentences(reason).filter { sentence in
            let invented = numbers(in: sentence).filter { number in
                !known.contains(number) && !(Double(number).map { $0 <= 10 && $0 == $0.rounded() } ?? false)
            }
            if !invented.isEmpty { dropped += 1 }
            return invented.isEmpty
        }
        let text = kept.joined().trimmingCharacters(in: .whitespaces)
        return (text.isEmpty ? nil : text, dropped)
    }

    /// Sentences with their closing punctuation and following spaces kept, so that joining
    /// them gives the text back: a Chinese sentence ends at 。！？；, an English one at .!?
    /// followed by a space.
    static func sentences(_ text: String) -> [String] {
        var sentences: [String] = []
        var current = ""
        var ended = false
        for character in text {
            if ended && character != " " {
                sentences.append(current)
                current = ""
                ended = false
            }
            current.append(character)
            if "。！？；".contains(character) {
                ended = true
            } else if character == " ", let previous = current.dropLast().last, ".!?".contains(previous) {
                ended = true
            }
        }
        if !current.isEmpty { sentences.append(current) }
        return sentences
    }
}
