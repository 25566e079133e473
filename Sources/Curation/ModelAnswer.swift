import Foundation
import PaperPostCore

/// Reading the model's answers: JSON, possibly wrapped in a code fence or a sentence, checked
/// against what was asked. A problem is described in words the model is shown on its retry.
enum ModelAnswer {
    /// The first JSON object inside an answer that parses: the whole text, a fenced block, or
    /// the first balanced `{…}` (strings and escapes respected), so prose after the JSON, even
    /// prose with braces, is ignored.
    static func jsonObject(in content: String) -> Data? {
        var text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        if let fence = text.range(of: "```") {
            let afterFence = text[fence.upperBound...]
            let body = afterFence.drop { $0 != "\n" }
            if let close = body.range(of: "```") {
                text = String(body[..<close.lowerBound])
            }
        }
        let bytes = Array(text.utf8)
        var start = bytes.firstIndex(of: UInt8(ascii: "{"))
        while let open = start {
            if let close = balancedEnd(bytes, from: open) {
                let candidate = Data(bytes[open...close])
                if (try? JSONSerialization.jsonObject(with: candidate)) is [String: Any] {
                    return candidate
                }
            }
            start = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "{"))
        }
        return nil
    }

    /// The index of the `}` closing the `{` at `open`, skipping braces inside JSON strings.
    private static func balancedEnd(_ bytes: [UInt8], from open: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for index in open..<bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
        }
        return nil
    }

    struct ScoreItem: Codable {
        var id: String
        var score: Double
        var reason: [String: String]
    }

    /// An arXiv id as the model wrote it, matched to one asked about: a version suffix
    /// (`2202.12139v1`), an `arXiv:` prefix and surrounding spaces are ignored.
    static func matchID(_ written: String, in ids: [String]) -> String? {
        var id = written.trimmingCharacters(in: .whitespaces)
        if id.lowercased().hasPrefix("arxiv:") { id = String(id.dropFirst(6)) }
        if let range = id.range(of: "v[0-9]+$", options: .regularExpression) { id.removeSubrange(range) }
        return ids.contains(id) ? id : nil
    }

    /// A score written as a number or as a string holding one (`"7"`, `"7/10"`).
    static func number(_ value: Any?) -> Double? {
        switch value {
        case let number as NSNumber: return number.doubleValue
        case let text as String:
            let head = text.trimmingCharacters(in: .whitespaces).split(separator: "/").first.map(String.init) ?? ""
            return Double(head.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    /// Score answers for the papers asked about; returns the valid items and a description of
    /// everything wrong with the rest.
    static func scores(in content: String, ids: [String], languages: [Language]) -> (valid: [String: ScoreItem], problems: [String]) {
        guard let data = jsonObject(in: content), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return ([:], ["the answer is not a JSON object"])
        }
        guard let items = object["scores"] as? [Any] else {
            return ([:], ["the JSON does not have the shape {\"scores\": [{\"id\", \"score\", \"reason\": {language: text}}]}"])
        }
        var valid: [String: ScoreItem] = [:]
        var problems: [String] = []
        for case let item as [String: Any] in items {
            let written = (item["id"] as? String) ?? (item["id"] as? NSNumber)?.stringValue
            guard let written, let id = matchID(written, in: ids) else {
                problems.append("the id '\(written ?? "(missing)")' was not asked about")
                continue
            }
            guard let score = number(item["score"]), (1...10).contains(score) else {
                problems.append("paper \(id): the score must be a number from 1 to 10, got \(item["score"].map { "\($0)" } ?? "nothing")")
                continue
            }
            let reasons = (item["reason"] as? [String: Any])?.compactMapValues { $0 as? String } ?? [:]
            let missing = languages.filter { (reasons[$0.rawValue] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            guard missing.isEmpty else {
                problems.append("paper \(id): the reason in \(missing.map(\.rawValue).joined(separator: ", ")) is missing or empty")
                continue
            }
            valid[id] = ScoreItem(id: id, score: score, reason: reasons)
        }
        for id in ids where valid[id] == nil && !problems.contains(where: { $0.hasPrefix("paper \(id):") }) {
            problems.append("paper \(id) has no score")
        }
        return (valid, problems)
    }

    struct SummaryFields: Codable {
        var title: String
        var background: String
        var innovation: String
        var details: String
        var results: String
    }

    static func summary(in content: String) -> Result<SummaryFields, SummaryProblem> {
        guard let data = jsonObject(in: content),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            return .failure(SummaryProblem(description: "the answer is not a JSON object"))
        }
        let fields = ["title", "background", "innovation", "details", "results"]
        let missing = fields.filter { ((object[$0] as? String) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        guard missing.isEmpty else {
            return .failure(SummaryProblem(description: "the fields \(missing.joined(separator: ", ")) are missing or empty"))
        }
        func field(_ name: String) -> String {
            (object[name] as! String).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return .success(SummaryFields(
            title: field("title"), background: field("background"), innovation: field("innovation"),
            details: field("details"), results: field("results")))
    }

    struct SummaryProblem: Error, CustomStringConvertible {
        var description: String
    }
}
