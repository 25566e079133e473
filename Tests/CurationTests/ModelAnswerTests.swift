@testable import Curation
import Foundation
import PaperPostCore
import Testing

@Suite("Reading the model's answers")
struct ModelAnswerTests {
    let ids = ["2602.00001", "2602.00002"]

    @Test("JSON is found bare, in a code fence, or inside a sentence", arguments: [
        #"{"a": 1}"#,
        "```json\n{\"a\": 1}\n```",
        "Here you go:\n```\n{\"a\": 1}\n```\nAnything else?",
        "Sure! {\"a\": 1} Hope that helps.",
    ])
    func findsJSON(content: String) throws {
        let data = try #require(ModelAnswer.jsonObject(in: content))
        #expect(String(decoding: data, as: UTF8.self) == #"{"a": 1}"#)
    }

    @Test("valid scores are read; every problem is described so the model can correct it")
    func scoreValidation() {
        let content = """
            {"scores": [
              {"id": "2602.00001", "score": 8.5, "reason": {"zh": "好", "en": "Good"}},
              {"id": "2602.00002", "score": 42, "reason": {"zh": "好", "en": "Good"}},
              {"id": "9999.99999", "score": 5, "reason": {"zh": "好", "en": "Good"}}
            ]}
            """
        let (valid, problems) = ModelAnswer.scores(in: content, ids: ids, languages: [.zh, .en])
        #expect(valid.keys.sorted() == ["2602.00001"])
        #expect(valid["2602.00001"]?.score == 8.5)
        #expect(problems == [
            "paper 2602.00002: the score must be a number from 1 to 10, got 42",
            "the id '9999.99999' was not asked about",
        ])
    }

    @Test("a missing reason in one language, broken JSON and the wrong shape are problems")
    func scoreProblems() {
        #expect(ModelAnswer.scores(in: #"{"scores": [{"id": "2602.00001", "score": 5, "reason": {"zh": "好"}}]}"#, ids: ["2602.00001"], languages: [.zh, .en]).problems
            == ["paper 2602.00001: the reason in en is missing or empty"])
        #expect(ModelAnswer.scores(in: #"{"scores": ["#, ids: ids, languages: [.en]).problems == ["the answer is not a JSON object"])
        #expect(ModelAnswer.scores(in: #"{"papers": []}"#, ids: ids, languages: [.en]).problems.first?.contains("does not have the shape") == true)
    }

    @Test("a lenient reader: a score as a string, an id with a version or an arXiv: prefix, prose with braces after the JSON")
    func lenientScores() {
        let content = """
            {"scores": [
              {"id": "2602.00001v2", "score": "7", "reason": {"en": "Good {really}"}},
              {"id": "arXiv:2602.00002", "score": 6.5, "reason": {"en": "Fine"}}
            ]}
            Note: I weighed {novelty, rigour} equally. {"scores": []}
            """
        let (valid, problems) = ModelAnswer.scores(in: content, ids: ids, languages: [.en])
        #expect(problems.isEmpty)
        #expect(valid["2602.00001"]?.score == 7)
        #expect(valid["2602.00001"]?.reason["en"] == "Good {really}")
        #expect(valid["2602.00002"]?.score == 6.5)
        #expect(ModelAnswer.scores(in: #"{"scores": [{"id": "2602.00001", "score": "high", "reason": {"en": "x"}}]}"#, ids: ids, languages: [.en])
            .problems.first == "paper 2602.00001: the score must be a number from 1 to 10, got high")
    }

    @Test("a summary needs all five fields, non-empty")
    func summaryFields() throws {
        let good = #"{"title": "T", "background": "B", "innovation": "I", "details": "D", "results": "R"}"#
        #expect(try ModelAnswer.summary(in: good).get().results == "R")
        let missing = #"{"title": "T", "background": "B", "innovation": " ", "details": "D"}"#
        guard case .failure(let problem) = ModelAnswer.summary(in: missing) else {
            Issue.record("expected a problem")
            return
        }
        #expect(problem.description == "the fields innovation, results are missing or empty")
    }
}

@Suite("Numbers the abstract never gave")
struct NumberCheckTests {
    let paper = Paper(
        id: "2602.17547", version: 1, title: "KLong: Training LLM Agents",
        abstract: "KLong (106B) beats Kimi K2 by 11.28 points on PaperBench. It uses 1,000 trajectories.",
        authors: [], categories: ["cs.AI"])
    let fallback = Summary(title: "t", background: "fb", innovation: "fi", details: "fd", results: "fr", source: .heuristic)

    @Test("sentences with invented numbers are dropped and counted; real and small numbers stay")
    func dropsInventedNumbers() {
        let summary = Summary(
            title: "KLong", background: "它有 106B 参数。使用 1000 条轨迹。",
            innovation: "三个模块：1）拆分；2）渐进训练。", details: "Accuracy rises by 97.3%. It is open.",
            results: "提升 11.28 个百分点。推理速度提升 35 倍。", source: .llm)
        let (checked, dropped) = NumberCheck.checked(summary, against: paper, fallback: fallback)
        #expect(checked.background == "它有 106B 参数。使用 1000 条轨迹。")
        #expect(checked.innovation == "三个模块：1）拆分；2）渐进训练。")
        #expect(checked.details == "It is open.")
        #expect(checked.results == "提升 11.28 个百分点。")
        #expect(dropped == 2)
    }

    @Test("a field left empty takes the heuristic's text instead")
    func emptyFieldFallsBack() {
        let summary = Summary(title: "t", background: "b", innovation: "i", details: "d", results: "Improves by 97.3%.", source: .llm)
        let (checked, dropped) = NumberCheck.checked(summary, against: paper, fallback: fallback)
        #expect(checked.results == "fr")
        #expect(dropped == 1)
    }
}
