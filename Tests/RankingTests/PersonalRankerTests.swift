import Foundation
import PaperPostCore
import Ranking
import Testing

/// Each reader's own order: interests, muted phrases and followed authors over a day of papers.
@Suite("Personal ranking")
struct PersonalRankerTests {
    static let summary = Summary(title: "t", background: "b", innovation: "i", details: "d", results: "r", source: .heuristic)

    /// Five cs.AI papers scored 9 down to 5 (so the day's order is a, b, c, d, e), one of them
    /// also in cs.CL; all summarised in English but `e`.
    static func digest(mustRead: Int = 2, more: Int = 2) -> Digest {
        let papers: [(String, String, String, [String], Double)] = [
            ("a", "Scaling laws for vision transformers", "We study image models at scale.", ["Ada Lovelace"], 9),
            ("b", "A benchmark for tabular learning", "Tabular data sets and gradient boosting.", ["Grace Hopper"], 8),
            ("c", "Diffusion models for molecule design", "Generative diffusion over graphs of molecules.", ["Alan Turing"], 7),
            ("d", "Reinforcement learning from human feedback at low cost",
             "RLHF with reward models trained on preference pairs; policies improve.", ["Yoshua Bengio", "Li Wei"], 6),
            ("e", "Retrieval-augmented generation for long documents",
             "We retrieve passages and augment generation with them.", ["Fei-Fei Li"], 5),
        ]
        let entries = papers.map { id, title, abstract, authors, score in
            DigestEntry(
                paper: Paper(id: "2602.0000\(id)", version: 1, title: title, abstract: abstract, authors: authors,
                             categories: id == "c" ? ["cs.AI", "cs.CL"] : ["cs.AI"]),
                score: score, scoredBy: .heuristic, reasons: [.en: "reason \(id)"], summaries: id == "e" ? [:] : [.en: summary])
        }
        return Digest(
            day: Day(year: 2026, month: 2, day: 20)!, mode: .heuristic, model: nil, entries: entries, candidates: 5, mustRead: mustRead,
            more: more, languages: [.en], categories: ["cs.AI"], usage: TokenUsage(), notes: [], createdAt: Date())
    }

    static func edition(
        _ interests: ReaderInterests, categories: [String] = ["cs.AI"], digest: Digest = digest(), taste: TasteVector = TasteVector()
    ) -> PersonalEdition? {
        PersonalRanker(digest).edition(categories: categories, language: .en, interests: interests, taste: taste)
    }

    @Test("a reader with no interests gets no personal edition: the day's edition for their categories stands")
    func noInterests() {
        #expect(Self.edition(.none) == nil)
    }

    @Test("an interest phrase brings the matching paper first, with the phrase as its reason; plurals and case do not matter")
    func interest() throws {
        let edition = try #require(Self.edition(try ReaderInterests(interests: ["reward model", "quantum computing"])))
        #expect(edition.mustRead == ["2602.0000d", "2602.0000a"])
        #expect(edition.more == ["2602.0000b", "2602.0000c"])
        #expect(edition.reasons == ["2602.0000d": .interest("reward model")], "only the moved paper has a reason; the unmatched phrase none")
    }

    @Test("every word of a phrase must be there: 'graph neural networks' does not match a paper that only says 'graphs'")
    func wholePhrase() throws {
        let edition = try #require(Self.edition(try ReaderInterests(interests: ["graph neural networks"])))
        #expect(edition.mustRead == ["2602.0000a", "2602.0000b"])
        #expect(edition.reasons.isEmpty)
    }

    @Test("a muted phrase drops a paper; the next one takes its place")
    func muted() throws {
        let edition = try #require(Self.edition(try ReaderInterests(muted: ["Diffusion"])))
        #expect(edition.mustRead == ["2602.0000a", "2602.0000b"])
        #expect(edition.more == ["2602.0000d", "2602.0000e"])
        #expect(!(edition.mustRead + edition.more).contains("2602.0000c"))
    }

    @Test("a followed author counts whether typed in full, with an initial, or with other case and accents", arguments: [
        "Yoshua Bengio", "Y. Bengio", "yoshua bengio", "Yoshuá BENGIO",
    ])
    func followedAuthor(name: String) throws {
        let edition = try #require(Self.edition(try ReaderInterests(authors: [name])))
        #expect(edition.mustRead.first == "2602.0000d")
        #expect(edition.reasons["2602.0000d"] == .author("Yoshua Bengio"), "the reason names the author as the paper spells it")
    }

    @Test("a different first name with the same surname is someone else: 'Wei Li' is not 'Li Wei', 'Fei-Fei Li' is not 'Li Wei'")
    func otherAuthor() throws {
        let edition = try #require(Self.edition(try ReaderInterests(authors: ["Wei Li", "Ada Byron"])))
        #expect(edition.reasons.isEmpty)
        #expect(edition.mustRead == ["2602.0000a", "2602.0000b"])
    }

    @Test("the reader's best paper without a summary goes to the table with its reason; must-reads are summarised papers")
    func mustReadNeedsSummary() throws {
        let edition = try #require(Self.edition(try ReaderInterests(interests: ["retrieval-augmented generation"])))
        #expect(edition.mustRead == ["2602.0000a", "2602.0000b"], "e ranks first but has no summary")
        #expect(edition.more == ["2602.0000e", "2602.0000c"])
        #expect(edition.reasons["2602.0000e"] == .interest("retrieval-augmented generation"))
    }

    @Test("only the reader's categories: a cs.CL reader's interests cannot bring in a cs.AI-only paper")
    func categories() throws {
        let edition = try #require(Self.edition(try ReaderInterests(interests: ["reward model"]), categories: ["cs.CL"]))
        #expect(edition.mustRead == ["2602.0000c"])
        #expect(edition.more.isEmpty)
    }

    @Test("interests are validated: at most 20 per list, 100 characters each, no control characters or ';'; duplicates fold")
    func validation() throws {
        #expect(try ReaderInterests(interests: ["RLHF", " rlhf ", "multi  agent\tsystems"]).interests == ["RLHF", "multi agent systems"])
        #expect(throws: InputError.invalidValue(field: "interests", value: String(repeating: "x", count: 101), reason: "longer than 100 characters")) {
            try ReaderInterests(interests: [String(repeating: "x", count: 101)])
        }
        #expect { try ReaderInterests(muted: (1...21).map { "topic \($0)" }) } throws: { error in
            (error as? InputError)?.description.contains("muted") == true && (error as? InputError)?.description.contains("at most 20") == true
        }
        #expect { try ReaderInterests(authors: ["Ada\u{7}"]) } throws: { error in
            (error as? InputError)?.description.contains("authors") == true
        }
        #expect(ReaderInterests.parseList("RLHF; graph neural networks, GNNs\nSmith, J.") == ["RLHF", "graph neural networks, GNNs", "Smith, J."])
    }

    @Test("votes move similar papers up and down: a vote for an RLHF paper lifts tomorrow's reward-model paper, a vote against diffusion sinks another")
    func votes() throws {
        let taste = TasteProfile.vector([
            VotedPaper(title: "Reward models for RLHF", abstract: "Preference pairs train reward models for policies.", vote: .up),
            VotedPaper(title: "Diffusion for molecule generation", abstract: "Diffusion over molecular graphs.", vote: .down),
        ])
        #expect(!taste.isEmpty)
        #expect(taste.count <= TasteProfile.maximumTerms)
        let edition = try #require(Self.edition(.none, digest: Self.digest(mustRead: 2, more: 3), taste: TasteVector(taste)))
        #expect(edition.mustRead.first == "2602.0000d", "like the paper voted up")
        #expect(edition.reasons["2602.0000d"] == .likeVotedUp)
        #expect((edition.mustRead + edition.more).last == "2602.0000c", "like the paper voted down: last")
        #expect(edition.reasons["2602.0000c"] == nil)
        #expect(TasteProfile.vector([]) == [:])
        #expect(TasteProfile.vector([VotedPaper(title: "x", abstract: "y", vote: .up), VotedPaper(title: "x", abstract: "y", vote: .down)]) == [:],
                "an up and a down on the same paper cancel")
    }
}
