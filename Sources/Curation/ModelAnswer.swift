import Foundation
import PaperPostCore

/// Reading the model's answers: JSON, possibly wrapped in a code fence or a sentence, checked
/// against what was asked. A problem is described in words the model is shown on its retry.
enum ModelAnswer {
    /// The JSON object inside an answer: the whole text, a fenced block, or from the first `{`
    /// to the last `}`.
    static func jsonObject(in content: String) -> Data? {
        var text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        if let fence = text.range(of: "```") {
            let afterFence = text[fence.upperBound...]
            let body = afterFence.drop { $0 != "\n" }
            if let close = body.range(of: "```") {
                text = String(body[..<close.lowerBound])
            }
        }
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close else { return nil }
        return Data(text[open...close].utf8)
    }

    struct ScoreItem: Codable {
        var id: String
        var score: Double
        var reason: [String: String]
    }

    /// Score answers for the papers asked about; returns the valid items and a description of
    /// everything wrong with the rest.
    static func scores(in content: String, ids: [String], languages: [Language]) -> (valid: [String: ScoreItem], problems: [String]) {
        struct Answer: Decodable {
            struct Item: Decodable {
                var id: String?
                var score: Double?
                var reason: [String: String]?
            }
            var scores: [Item]
        }
        guard let data = jsonObject(in: content) else {
            return ([:], ["the answer is not a JSON object"])
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data) else {
            return ([:], ["the JSON does not have the shape {\"scores\": [{\"id\", \"score\", \"reason\": {language: text}}]}"])
        }
        var valid: [String: ScoreItem] = [:]
        var problems: [String] = []
        for item in answer.scores {
            guard let id = item.id, ids.contains(id) else {
                problems.append("the id '\(item.id ?? "(missing)")' was not asked about")
                continue
            }
            guard let score = item.score, (1...10).contains(score) else {
                problems.append("paper \(id): the score must be a number from 1 to 10, got \(item.score.map { String($0) } ?? "nothing")")
                continue
            }
            let missing = languages.filter { (item.reason?[$0.rawValue] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            guard missing.isEmpty else {
                problems.append("paper \(id): the reason in \(missing.map(\.rawValue).joined(separator: ", ")) is missing or empty")
                continue
            }
            valid[id] = ScoreItem(id: id, score: score, reason: item.reason ?? [:])
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
