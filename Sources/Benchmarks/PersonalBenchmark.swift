import struct Crypto.SymmetricKey
import Foundation
import PaperPostCore
import Ranking
import Rendering

/// Issue 15: 100,000 readers, each with their own interests and votes (generated), against a
/// 50-scanned / 9-picked day. Ranking alone (target < 2 s on one core), then ranking plus
/// rendering every reader's email (target < 10 s, peak memory < 200 MB).
enum PersonalBenchmark {
    static let vocabulary = [
        "agents", "reinforcement", "learning", "language", "models", "retrieval", "augmented", "generation", "diffusion", "vision",
        "transformers", "graph", "neural", "networks", "robotics", "planning", "reasoning", "alignment", "preference", "reward",
        "benchmark", "evaluation", "multimodal", "speech", "translation", "compression", "quantization", "pruning", "federated",
        "privacy", "causal", "inference", "bayesian", "optimization", "scaling", "laws", "tokenizer", "memory", "long", "context",
        "time", "series", "forecasting", "molecule", "protein", "code", "synthesis", "verification", "safety", "jailbreak",
    ]

    static func words(_ seed: Int, _ count: Int) -> [String] {
        (0..<count).map { vocabulary[(seed * 7 + $0 * 13 + $0 * $0) % vocabulary.count] }
    }

    /// The rendering bench's digest with titles and abstracts that differ in topic.
    static func digest() -> Digest {
        var digest = RenderingBenchmark.digest()
        digest.entries = digest.entries.enumerated().map { index, entry in
            var entry = entry
            entry.paper.title = "Paper \(index): " + words(index, 6).joined(separator: " ")
            entry.paper.abstract = (0..<8).map { words(index * 3 + $0, 12).joined(separator: " ") + "." }.joined(separator: " ")
            entry.paper.authors = ["Author \(index % 17)", "Coauthor \(index % 23)"]
            return entry
        }
        return digest
    }

    static func readers(_ digest: Digest, _ indices: Range<Int>) -> [Recipient] {
        indices.map { index in
            let voted = (0..<3).map { k -> VotedPaper in
                let entry = digest.entries[(index * 5 + k * 11) % digest.entries.count]
                return VotedPaper(title: entry.paper.title, abstract: entry.paper.abstract, vote: k == 2 ? .down : .up)
            }
            let interests = try! ReaderInterests(
                interests: [words(index, 1)[0], words(index + 3, 2).joined(separator: " ")], muted: index % 5 == 0 ? [words(index + 9, 1)[0]] : [],
                authors: index % 3 == 0 ? ["Author \(index % 17)"] : [])
            return Recipient(
                subscriberID: Int64(index + 1), email: "reader\(index)@example.com", name: index % 2 == 0 ? "李伟\(index)" : "Ada \(index)",
                language: index % 2 == 0 ? .zh : .en, categories: RenderingBenchmark.categorySets[(index / 2) % RenderingBenchmark.categorySets.count],
                linkSecret: "secret-\(index)", interests: interests, taste: TasteVector(TasteProfile.vector(voted)))
        }
    }

    /// Readers are made a page at a time, as a send reads them, and only ranking and
    /// rendering are timed: the generated interests and votes of 100,000 readers would
    /// otherwise be most of the memory measured.
    static let page = 1_000

    /// - Parameter rankingOnly: stop after ranking (`paperpost-bench ranking`), for profiling it.
    static func run(templates: String, rankingOnly: Bool = false) throws {
        let count = ProcessInfo.processInfo.environment["PAPERPOST_BENCH_READERS"].flatMap(Int.init) ?? 100_000
        let digest = digest()
        let pages = stride(from: 0, to: count, by: page).map { $0..<min($0 + page, count) }

        let ranker = PersonalRanker(digest)
        var distinct = Set<PersonalEdition>()
        var ranking = Duration.zero
        for indices in pages {
            let recipients = readers(digest, indices)
            let start = ContinuousClock.now
            for reader in recipients {
                if let edition = ranker.edition(categories: reader.categories, language: reader.language, interests: reader.interests, taste: reader.taste) {
                    distinct.insert(edition)
                }
            }
            ranking += ContinuousClock.now - start
        }
        print("personal ranking: \(count) readers with their own interests and votes against 50 papers, one core: "
            + "\(ranking.ms)  [target < 2000 ms]; \(distinct.count) distinct editions")
        guard !rankingOnly else { return }

        let settings = RenderingBenchmark.settings(templates: templates)
        let start = ContinuousClock.now
        let composer = try EmailComposer(
            digest: digest, recipients: readers(digest, 0..<min(page, count)), settings: settings, serverSecret: SymmetricKey(size: .bits256))
        let prepared = ContinuousClock.now - start
        var composing = Duration.zero
        var buffer: [UInt8] = []
        var messages = 0
        let date = MessageDate()
        for indices in pages {
            let recipients = readers(digest, indices)
            let pageStart = ContinuousClock.now
            for recipient in recipients where composer.compose(for: recipient, date: date, into: &buffer) != nil {
                messages += 1
            }
            composing += ContinuousClock.now - pageStart
        }
        print("personal rendering: \(messages) emails, \(composer.pieceCount) pieces: prepare \(prepared.ms) + "
            + "rank and compose \(composing.ms) = \((prepared + composing).ms)  [target < 10000 ms]; "
            + "peak memory \(RenderingBenchmark.peakMemoryMB()) MB  [target < 200 MB]")
    }
}
