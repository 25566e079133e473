@testable import Curation
import Foundation
import PaperPostCore
import Testing

@Suite("Heuristic curation")
struct HeuristicCuratorTests {
    let curator = HeuristicCurator()

    func paper(abstract: String, comment: String? = nil, categories: [String] = ["cs.AI"]) -> Paper {
        Paper(id: "2602.00001", version: 1, title: "A Title", abstract: abstract, authors: ["A"], categories: categories, comment: comment)
    }

    @Test("signals raise the score: acceptance, code, a benchmark claim, cross-listings")
    func scoring() {
        let plain = paper(abstract: "We study things. We propose a method.")
        #expect(curator.score(plain) == 5)
        let strong = paper(
            abstract: "We propose X. It outperforms prior work. Code is available at https://github.com/x/y.",
            comment: "Accepted at ICLR 2026", categories: ["cs.LG", "cs.AI", "cs.CL"])
        #expect(curator.score(strong) == 10)
        #expect(curator.reason(strong, language: .en).hasPrefix("Heuristic: accepted at ICLR; code available; claims to beat existing methods; cross-listed in 3 categories. We propose X."))
        #expect(curator.reason(strong, language: .zh).hasPrefix("启发式：已被 ICLR 接收；公开代码；声称优于现有方法；跨 3 个类别。"))
    }

    @Test("summary fields come from the abstract's own sentences, the title untranslated")
    func summaryFromAbstract() {
        let abstract = "Large models are costly. Existing pruning ignores attention sinks. We propose Sink-Aware Pruning for diffusion models. "
            + "It scores heads by their sink mass. Pruned heads are removed in one pass. Experiments show it outperforms baselines on 5 benchmarks."
        let summary = curator.summary(paper(abstract: abstract))
        #expect(summary.source == .heuristic)
        #expect(summary.title == "A Title")
        #expect(summary.background == "Large models are costly. Existing pruning ignores attention sinks.")
        #expect(summary.innovation == "We propose Sink-Aware Pruning for diffusion models.")
        #expect(summary.details == "It scores heads by their sink mass. Pruned heads are removed in one pass.")
        #expect(summary.results == "Experiments show it outperforms baselines on 5 benchmarks.")
    }

    @Test("sentences are split at full stops before a capital, not inside numbers or e.g.")
    func sentenceSplitting() {
        #expect(HeuristicCurator.sentences("It improves 3.5 points, e.g. on MMLU. Then it ends.") == [
            "It improves 3.5 points, e.g. on MMLU.", "Then it ends.",
        ])
    }
}

@Suite("Personal editions")
struct EditionTests {
    func entry(_ id: String, _ score: Double, _ categories: [String]) -> DigestEntry {
        DigestEntry(
            paper: Paper(id: id, version: 1, title: id, abstract: "", authors: [], categories: categories),
            score: score, scoredBy: .llm, reasons: [:])
    }

    @Test("an edition holds only the reader's categories: their best papers first, numbered from their own top")
    func edition() {
        let digest = Digest(
            day: Day(year: 2026, month: 2, day: 20)!, mode: .llm, model: "m",
            entries: Digest.ranked([
                entry("a", 9, ["cs.AI"]), entry("b", 8, ["cs.LG"]), entry("c", 7, ["cs.CV", "cs.AI"]),
                entry("d", 6, ["cs.CV"]), entry("e", 5, ["cs.RO"]), entry("f", 9, ["cs.CV"]),
            ]),
            candidates: 6, mustRead: 2, more: 2, languages: [.en], categories: ["cs.AI", "cs.LG", "cs.CV"],
            usage: TokenUsage(), notes: [], createdAt: Date())
        #expect(digest.entries.map(\.paper.id) == ["a", "f", "b", "c", "d", "e"])
        let vision = digest.edition(for: ["cs.CV"])
        #expect(vision.mustRead.map(\.paper.id) == ["f", "c"])
        #expect(vision.more.map(\.paper.id) == ["d"])
        #expect(digest.edition(for: ["cs.NE"]).mustRead.isEmpty)
    }
}
