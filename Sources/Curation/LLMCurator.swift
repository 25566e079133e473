import Crypto
import Foundation
import PaperPostCore
import PaperPostStore

/// Curation by a language model. Answers are cached by paper, prompt version, model and
/// language; an unusable answer is retried once with its problems stated, and whatever still
/// fails — or comes after the spending cap — is curated by the heuristic, paper by paper.
public struct LLMCurator: Curator {
    let client: ChatCompletionClient
    let prompts: Prompts
    let store: CurationStore
    let spending: Spending
    let model: String
    let concurrency: Int
    let force: Bool
    let fallbacks = FallbackLog()
    let heuristic = HeuristicCurator()
    static let batchSize = 10

    init(client: ChatCompletionClient, prompts: Prompts, store: CurationStore, spending: Spending, settings: LLMSettings, force: Bool) {
        self.client = client
        self.prompts = prompts
        self.store = store
        self.spending = spending
        self.model = settings.model
        self.concurrency = settings.concurrency
        self.force = force
    }

    // MARK: Scores

    struct CachedScore: Codable {
        var score: Double
        var reason: String
    }

    public func score(_ papers: [Paper], languages: [Language]) async throws -> [String: ScoredPaper] {
        let keys = papers.flatMap { paper in languages.map { cacheKey(.score, paper.id, $0, prompts.score.version) } }
        let cached = force ? [:] : try await store.cachedAnswers(for: keys)
        var result: [String: ScoredPaper] = [:]
        var missing: [[Language]: [Paper]] = [:]
        var knownScores: [String: Double] = [:]
        for paper in papers {
            var reasons: [Language: String] = [:]
            for language in languages {
                if let data = cached[cacheKey(.score, paper.id, language, prompts.score.version)],
                    let item = try? JSONDecoder().decode(CachedScore.self, from: data)
                {
                    reasons[language] = item.reason
                    knownScores[paper.id] = item.score
                }
            }
            let needed = languages.filter { reasons[$0] == nil }
            if needed.isEmpty, let score = knownScores[paper.id] {
                result[paper.id] = ScoredPaper(score: score, reasons: reasons, source: .llm)
            } else {
                missing[needed, default: []].append(paper)
                result[paper.id] = ScoredPaper(score: knownScores[paper.id] ?? 0, reasons: reasons, source: .llm)
            }
        }

        let batches = missing.flatMap { languages, papers in
            stride(from: 0, to: papers.count, by: Self.batchSize).map { (languages, Array(papers[$0..<min($0 + Self.batchSize, papers.count)])) }
        }
        let answers = try await concurrentMap(batches, limit: concurrency) { languages, papers in
            (languages, papers, try await scoreBatch(papers, languages: languages))
        }
        var toCache: [CachedAnswer] = []
        let fallback = await heuristic.score(papers, languages: languages)
        for (batchLanguages, batchPapers, valid) in answers {
            for paper in batchPapers {
                guard let item = valid[paper.id] else {
                    result[paper.id] = fallback[paper.id]
                    continue
                }
                var scored = result[paper.id]!
                scored.score = knownScores[paper.id] ?? item.score
                for language in batchLanguages {
                    let reason = item.reason[language.rawValue]!
                    scored.reasons[language] = reason
                    let value = try JSONEncoder().encode(CachedScore(score: scored.score, reason: reason))
                    toCache.append(CachedAnswer(
                        key: cacheKey(.score, paper.id, language, prompts.score.version), purpose: .score, paperID: paper.id,
                        language: language, model: model, promptVersion: prompts.score.version, result: value))
                }
                result[paper.id] = scored
            }
        }
        try await store.cache(toCache)
        return result
    }

    /// One batch, retried once for the papers whose answer was unusable. Returns the valid items.
    private func scoreBatch(_ papers: [Paper], languages: [Language]) async throws -> [String: ModelAnswer.ScoreItem] {
        var valid: [String: ModelAnswer.ScoreItem] = [:]
        var pending = papers
        var messages = prompts.scoreMessages(pending, languages: languages)
        for attempt in 1...2 {
            guard await spending.mayCall() else {
                await fallbacks.add(pending.map(\.id), reason: .cap)
                return valid
            }
            let ids = pending.map(\.id)
            let completion: ChatCompletion
            do {
                completion = try await client.complete(messages)
            } catch {
                try await spending.record(.score, language: nil, papers: ids, completion: nil, latency: error.latency, outcome: .failed, detail: error.description)
                await fallbacks.add(ids, reason: .failed)
                return valid
            }
            let answer = ModelAnswer.scores(in: completion.content, ids: ids, languages: languages)
            valid.merge(answer.valid) { $1 }
            try await spending.record(
                .score, language: nil, papers: ids, completion: completion, latency: completion.latency,
                outcome: answer.problems.isEmpty ? .ok : .invalid,
                detail: answer.problems.isEmpty ? nil : answer.problems.joined(separator: "; "))
            pending = pending.filter { valid[$0.id] == nil }
            if pending.isEmpty { break }
            if attempt == 2 {
                await fallbacks.add(pending.map(\.id), reason: .invalid)
                break
            }
            let retry = prompts.scoreMessages(pending, languages: languages)
            messages += [
                .assistant(completion.content),
                .user("Your answer had these problems: \(answer.problems.joined(separator: "; ")). Answer again, as one JSON object in the format described, for these papers:\n" + retry[1].content),
            ]
        }
        return valid
    }

    // MARK: Summaries

    public func summarize(_ requests: [SummaryRequest]) async throws -> [SummaryRequest: Summary] {
        let keys = requests.map { cacheKey(.summarize, $0.paper.id, $0.language, prompts.summarize.version) }
        let cached = force ? [:] : try await store.cachedAnswers(for: keys)
        var result: [SummaryRequest: Summary] = [:]
        var needed: [SummaryRequest] = []
        for (request, key) in zip(requests, keys) {
            if let data = cached[key], let summary = try? JSONDecoder().decode(Summary.self, from: data) {
                result[request] = summary
            } else {
                needed.append(request)
            }
        }
        let made = try await concurrentMap(needed, limit: concurrency) { request in
            (request, try await summarizeOne(request))
        }
        var toCache: [CachedAnswer] = []
        for (request, summary) in made {
            result[request] = summary
            if summary.source == .llm {
                toCache.append(CachedAnswer(
                    key: cacheKey(.summarize, request.paper.id, request.language, prompts.summarize.version), purpose: .summarize,
                    paperID: request.paper.id, language: request.language, model: model, promptVersion: prompts.summarize.version,
                    result: try JSONEncoder().encode(summary)))
            }
        }
        try await store.cache(toCache)
        return result
    }

    private func summarizeOne(_ request: SummaryRequest) async throws -> Summary {
        let fallback = heuristic.summary(request.paper)
        var messages = prompts.summarizeMessages(request.paper, language: request.language)
        for attempt in 1...2 {
            guard await spending.mayCall() else {
                await fallbacks.add([request.paper.id], reason: .cap)
                return fallback
            }
            let completion: ChatCompletion
            do {
                completion = try await client.complete(messages)
            } catch {
                try await spending.record(
                    .summarize, language: request.language, papers: [request.paper.id], completion: nil, latency: error.latency,
                    outcome: .failed, detail: error.description)
                await fallbacks.add([request.paper.id], reason: .failed)
                return fallback
            }
            switch ModelAnswer.summary(in: completion.content) {
            case .success(let fields):
                let (summary, dropped) = NumberCheck.checked(
                    Summary(title: fields.title, background: fields.background, innovation: fields.innovation,
                            details: fields.details, results: fields.results, source: .llm),
                    against: request.paper, fallback: fallback)
                try await spending.record(
                    .summarize, language: request.language, papers: [request.paper.id], completion: completion,
                    latency: completion.latency, outcome: .ok,
                    detail: dropped > 0 ? "dropped \(dropped) sentence(s) with numbers not in the abstract" : nil)
                if dropped > 0 {
                    await fallbacks.droppedNumbers(request.paper.id, count: dropped)
                }
                return summary
            case .failure(let problem):
                try await spending.record(
                    .summarize, language: request.language, papers: [request.paper.id], completion: completion,
                    latency: completion.latency, outcome: .invalid, detail: problem.description)
                if attempt == 2 { break }
                messages += [
                    .assistant(completion.content),
                    .user("Your answer had this problem: \(problem.description). Answer again, as one JSON object in the format described.\n" + prompts.summarizeMessages(request.paper, language: request.language)[1].content),
                ]
            }
        }
        await fallbacks.add([request.paper.id], reason: .invalid)
        return fallback
    }

    public func notes() async -> [String] {
        await fallbacks.notes()
    }

    private func cacheKey(_ purpose: LLMCall.Purpose, _ id: String, _ language: Language, _ version: String) -> String {
        let text = [purpose.rawValue, id, version, model, language.rawValue].joined(separator: "|")
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Which papers fell back to the heuristic, and why, for the digest's notes.
actor FallbackLog {
    enum Reason { case cap, failed, invalid }

    private var papers: [Reason: Set<String>] = [:]
    private var dropped: [String: Int] = [:]

    func add(_ ids: [String], reason: Reason) {
        papers[reason, default: []].formUnion(ids)
    }

    func droppedNumbers(_ id: String, count: Int) {
        dropped[id, default: 0] += count
    }

    func notes() -> [String] {
        var notes: [String] = []
        if let ids = papers[.cap], !ids.isEmpty {
            notes.append("spending cap reached: \(ids.count) paper(s) curated by the heuristic (\(ids.sorted().joined(separator: ", ")))")
        }
        if let ids = papers[.failed], !ids.isEmpty {
            notes.append("the model could not be reached for \(ids.count) paper(s), curated by the heuristic (\(ids.sorted().joined(separator: ", ")))")
        }
        if let ids = papers[.invalid], !ids.isEmpty {
            notes.append("the model's answer was unusable twice for \(ids.count) paper(s), curated by the heuristic (\(ids.sorted().joined(separator: ", ")))")
        }
        for (id, count) in dropped.sorted(by: { $0.key < $1.key }) {
            notes.append("\(id): dropped \(count) sentence(s) with numbers not in the abstract")
        }
        return notes
    }
}
