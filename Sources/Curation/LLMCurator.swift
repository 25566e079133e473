import Crypto
import Foundation
import PaperPostCore
import PaperPostStore

/// Curation by a language model. Answers are cached by paper, prompt version, model and
/// language. An unusable answer is asked again once, for the unusable papers only, in a fresh
/// short conversation that states the problem; a batch that still fails is asked paper by
/// paper; whatever fails after that — or does not fit under the spending cap — is curated by
/// the heuristic. A refused key, model or account, or an endpoint that keeps failing, stops
/// every call of the run (``ModelGate``), and ``failure()`` says why.
public struct LLMCurator: Curator {
    let client: ChatCompletionClient
    let prompts: Prompts
    let store: any CurationLedger
    let spending: Spending
    let gate: ModelGate
    let settings: LLMSettings
    let model: String
    let concurrency: Int
    let force: Bool
    let fallbacks = FallbackLog()
    let heuristic = HeuristicCurator()
    static let batchSize = 10
    /// A model score above this is not believed for a paper whose text addresses the model.
    public static let injectionCap = 5.0
    /// Availability failures of one call before it gives up (the breaker usually stops sooner).
    static let maxAttempts = 3
    static let summaryMaxTokens = 1_500
    /// The probe's tries and answer size; its time limit is `LLMSettings.probeTimeout`.
    static let probeAttempts = 2
    static let probeMaxTokens = 16

    init(client: ChatCompletionClient, prompts: Prompts, store: any CurationLedger, spending: Spending, settings: LLMSettings, force: Bool) {
        self.client = client
        self.prompts = prompts
        self.store = store
        self.spending = spending
        self.gate = ModelGate(deadline: settings.deadline)
        self.settings = settings
        self.model = settings.model
        self.concurrency = settings.concurrency
        self.force = force
    }

    /// `max_tokens` of a score call: a one-line reason per language per paper, with room.
    static func scoreMaxTokens(papers: Int, languages: Int) -> Int {
        64 + papers * (32 + 160 * languages)
    }

    // MARK: Calls

    enum CallResult {
        case answer(ChatCompletion, reservation: Double)
        /// Retries are used up; the failures are in the ledger.
        case failed(LLMError)
        /// The run stopped calling the model.
        case stopped(ModelStop)
        /// The call's worst case does not fit under the cap.
        case capped
    }

    /// One question to the model, with the retries it deserves: an unusable 200 (an HTML page,
    /// empty content) once, an availability failure up to ``maxAttempts`` times with backoff
    /// (honouring `Retry-After`), a configuration failure never. Failed attempts are recorded;
    /// a successful answer is recorded by the caller, who knows whether it was usable.
    func call(
        _ purpose: LLMCall.Purpose, language: Language?, papers: [String], messages: [ChatMessage], maxTokens: Int, useHeld: Bool
    ) async throws -> CallResult {
        await gate.probeOnce { await probe() }
        var attempt = 0
        var unusableRetried = false
        while true {
            attempt += 1
            let timeout: Duration
            switch await gate.admit(timeout: settings.timeout) {
            case .failure(let stop): return .stopped(stop)
            case .success(let allowed): timeout = allowed
            }
            guard let reservation = await spending.reserve(messages, maxTokens: maxTokens, useHeld: useHeld) else {
                return .capped
            }
            let error: LLMError
            do {
                let completion = try await client.complete(messages, maxTokens: maxTokens, timeout: timeout, abandon: gate.hasStopped)
                await gate.succeeded()
                return .answer(completion, reservation: reservation)
            } catch let failure {
                error = failure
            }
            try await spending.record(
                purpose, language: language, papers: papers, promptTokens: error.promptTokens, completionTokens: error.completionTokens,
                latency: error.latency, outcome: error.kind == .unusable ? .invalid : .failed, detail: error.description,
                reservation: reservation)
            if let stop = await gate.failed(error) {
                return .stopped(stop)
            }
            switch error.kind {
            case .configuration:
                return .failed(error)
            case .unusable:
                if unusableRetried { return .failed(error) }
                unusableRetried = true
            case .unavailable:
                guard attempt < Self.maxAttempts else { return .failed(error) }
                let backoff = settings.retryDelay * (1 << (attempt - 1))
                let wait = min(error.retryAfter ?? backoff, .seconds(60))
                if wait >= (await gate.timeLeft) {
                    // Waiting would pass the deadline: the next admit says so.
                    try? await Task.sleep(for: max(.zero, await gate.timeLeft))
                    continue
                }
                try await Task.sleep(for: wait)
            }
        }
    }

    /// A minimal request beside the run's first real ones, so that an endpoint that never
    /// answers is decided after at most ``probeAttempts`` tries of `LLMSettings.probeTimeout`
    /// (and the calls hanging on it are abandoned), not after each call's full timeout and its
    /// retries. An answer of any shape counts as alive: the real calls judge content. Its
    /// tokens are in the ledger like any call's; a ledger write that fails here is left to the
    /// real calls to report.
    func probe() async {
        do {
            try await probeAttempts()
        } catch {
            return
        }
    }

    private func probeAttempts() async throws {
        let messages = Prompts.probeMessages
        for attempt in 1...Self.probeAttempts {
            let timeout: Duration
            switch await gate.admit(timeout: min(settings.timeout, settings.probeTimeout)) {
            case .failure: return
            case .success(let allowed): timeout = allowed
            }
            guard let reservation = await spending.reserve(messages, maxTokens: Self.probeMaxTokens, useHeld: true) else { return }
            let result: Result<ChatCompletion, LLMError>
            do throws(LLMError) {
                result = .success(try await client.complete(messages, maxTokens: Self.probeMaxTokens, timeout: timeout))
            } catch {
                result = .failure(error)
            }
            switch result {
            case .success(let answer):
                try await spending.record(
                    .probe, language: nil, papers: [], promptTokens: answer.promptTokens, completionTokens: answer.completionTokens,
                    latency: answer.latency, outcome: .ok, detail: nil, reservation: reservation)
                await gate.succeeded()
                return
            case .failure(let error):
                try await spending.record(
                    .probe, language: nil, papers: [], promptTokens: error.promptTokens, completionTokens: error.completionTokens,
                    latency: error.latency, outcome: error.kind == .unusable ? .invalid : .failed, detail: error.description,
                    reservation: reservation)
                switch error.kind {
                case .unusable:
                    return
                case .configuration:
                    await gate.failed(error)
                    return
                case .unavailable:
                    await gate.failed(error)
                    guard attempt < Self.probeAttempts else {
                        await gate.halt(ModelStop(
                            cause: .unavailable,
                            description: "the endpoint did not answer a minimal request in \(Self.probeAttempts) tries "
                                + "(at most \(min(settings.timeout, settings.probeTimeout).components.seconds) s each); last: \(error.description)"))
                        return
                    }
                    try await Task.sleep(for: min(error.retryAfter ?? settings.retryDelay, .seconds(10)))
                }
            }
        }
    }

    /// Why the run stopped calling the model, if it did (the probe's verdict included).
    public func failure() async -> ModelStop? {
        await gate.probeFinished()
        return await gate.stop
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

        let batches = missing.sorted { $0.key.map(\.rawValue).joined(separator: " ") < $1.key.map(\.rawValue).joined(separator: " ") }.flatMap { languages, papers in
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
                    guard let known = knownScores[paper.id], var scored = result[paper.id] else {
                        result[paper.id] = fallback[paper.id]
                        continue
                    }
                    // The model scored this paper in another language's run: its score and
                    // cached reasons stand; only the missing reasons are the heuristic's, labelled.
                    scored.score = known
                    for language in batchLanguages where scored.reasons[language] == nil {
                        scored.reasons[language] = heuristic.reason(paper, language: language)
                    }
                    result[paper.id] = scored
                    continue
                }
                var scored = result[paper.id]!
                scored.score = knownScores[paper.id] ?? item.score
                for language in batchLanguages {
                    let (reason, dropped) = NumberCheck.checkedReason(item.reason[language.rawValue]!, against: paper)
                    if dropped > 0 {
                        await fallbacks.droppedNumbers(paper.id, count: dropped)
                    }
                    guard let reason else {
                        // Nothing of the reason survived: the heuristic's, which is labelled as such.
                        scored.reasons[language] = heuristic.reason(paper, language: language)
                        continue
                    }
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
        for paper in papers where result[paper.id]?.source == .llm {
            let phrases = PromptInjection.phrases(in: paper)
            guard !phrases.isEmpty, let score = result[paper.id]?.score else { continue }
            await fallbacks.flag(paper.id, phrases: phrases, score: score)
            result[paper.id]?.score = min(score, Self.injectionCap)
        }
        return result
    }

    enum ScoreAsk {
        case answered(valid: [String: ModelAnswer.ScoreItem], problems: [String])
        case truncated
        case failed(LLMError)
        case stopped
        case capped
    }

    /// Asks for the scores of `papers` once (with the retries of ``call``), in a fresh
    /// conversation that states `problem` when there is one.
    private func askScores(_ papers: [Paper], languages: [Language], problem: String?) async throws -> ScoreAsk {
        var messages = prompts.scoreMessages(papers, languages: languages)
        if let problem {
            messages[1].content = "Your earlier answer about these papers could not be used: \(problem). "
                + "Answer again, as one JSON object in the format described.\n" + messages[1].content
        }
        let ids = papers.map(\.id)
        let flagged = papers.compactMap { paper in
            let phrases = PromptInjection.phrases(in: paper)
            return phrases.isEmpty ? nil : "\(paper.id) (\"\(phrases[0])\")"
        }
        let flagNote = flagged.isEmpty ? nil : "text addresses the model: " + flagged.joined(separator: ", ")
        func detail(_ parts: String?...) -> String? {
            let kept = parts.compactMap { $0 }
            return kept.isEmpty ? nil : kept.joined(separator: "; ")
        }
        switch try await call(
            .score, language: nil, papers: ids, messages: messages,
            maxTokens: Self.scoreMaxTokens(papers: papers.count, languages: languages.count), useHeld: false)
        {
        case .stopped: return .stopped
        case .capped: return .capped
        case .failed(let error): return .failed(error)
        case .answer(let completion, let reservation):
            if completion.finishReason == "length" {
                try await spending.record(
                    .score, language: nil, papers: ids, promptTokens: completion.promptTokens, completionTokens: completion.completionTokens,
                    latency: completion.latency, outcome: .invalid, detail: detail("the answer was cut off at max_tokens", flagNote),
                    reservation: reservation)
                return .truncated
            }
            let answer = ModelAnswer.scores(in: completion.content, ids: ids, languages: languages)
            try await spending.record(
                .score, language: nil, papers: ids, promptTokens: completion.promptTokens, completionTokens: completion.completionTokens,
                latency: completion.latency, outcome: answer.problems.isEmpty ? .ok : .invalid,
                detail: detail(answer.problems.isEmpty ? nil : answer.problems.joined(separator: "; "), flagNote), reservation: reservation)
            return .answered(valid: answer.valid, problems: answer.problems)
        }
    }

    /// One batch: asked whole; the unusable papers asked again once with the problem stated; a
    /// batch cut off at `max_tokens` split in halves; what is still missing asked paper by
    /// paper. Returns the valid items; the rest is logged for the heuristic.
    private func scoreBatch(_ papers: [Paper], languages: [Language]) async throws -> [String: ModelAnswer.ScoreItem] {
        var valid: [String: ModelAnswer.ScoreItem] = [:]
        var pending = papers
        var problem: String?
        var lastFailure = FallbackLog.Reason.invalid
        stages: for _ in 1...2 {
            switch try await askScores(pending, languages: languages, problem: problem) {
            case .stopped:
                await fallbacks.add(pending.map(\.id), reason: .failed)
                return valid
            case .capped:
                await fallbacks.add(pending.map(\.id), reason: .cap)
                return valid
            case .truncated:
                if pending.count > 1 {
                    let half = pending.count / 2
                    for part in [Array(pending[..<half]), Array(pending[half...])] {
                        valid.merge(try await scoreBatch(part, languages: languages)) { $1 }
                    }
                    return valid
                }
                problem = "it was cut off at the token limit; keep each reason to one short sentence"
            case .failed(let error):
                lastFailure = error.kind == .unusable ? .invalid : .failed
                break stages
            case .answered(let answered, let problems):
                valid.merge(answered) { $1 }
                pending = pending.filter { valid[$0.id] == nil }
                if pending.isEmpty { return valid }
                problem = problems.joined(separator: "; ")
            }
        }
        if pending.count > 1 {
            let single = try await concurrentMap(pending, limit: concurrency) { paper in
                try await askScores([paper], languages: languages, problem: nil)
            }
            for (paper, answer) in zip(pending, single) {
                switch answer {
                case .answered(let answered, _): valid.merge(answered) { $1 }
                case .capped: await fallbacks.add([paper.id], reason: .cap)
                case .stopped: await fallbacks.add([paper.id], reason: .failed)
                case .failed(let error): await fallbacks.add([paper.id], reason: error.kind == .unusable ? .invalid : .failed)
                case .truncated: await fallbacks.add([paper.id], reason: .invalid)
                }
            }
            let left = pending.filter { valid[$0.id] == nil }.map(\.id)
            await fallbacks.add(left, reason: .invalid, onlyIfNew: true)
        } else {
            await fallbacks.add(pending.map(\.id), reason: lastFailure)
        }
        return valid
    }

    // MARK: Summaries

    public func summarize(_ requests: [SummaryRequest]) async throws -> [SummaryRequest: Summary] {
        await spending.releaseHeld()
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

    /// Holds back, before scoring, the worst case of the summaries that will be needed, so
    /// that scoring cannot spend what the must-read papers need.
    func planSummaries(count: Int, sample: Paper?, languages: [Language]) async {
        guard count > 0, let sample else { return }
        let worst = await languages.asyncMap { language in
            await spending.worstCase(prompts.summarizeMessages(sample, language: language), maxTokens: Self.summaryMaxTokens)
        }.max() ?? 0
        // Abstracts vary: a fifth more than the sample's worst case.
        await spending.hold(Double(count) * worst * 1.2)
    }

    private func summarizeOne(_ request: SummaryRequest) async throws -> Summary {
        let fallback = heuristic.summary(request.paper)
        var problem: String?
        for _ in 1...2 {
            var messages = prompts.summarizeMessages(request.paper, language: request.language)
            if let problem {
                messages[1].content = "Your earlier answer could not be used: \(problem). Answer again, as one JSON object in the format described.\n"
                    + messages[1].content
            }
            let completion: ChatCompletion
            let reservation: Double
            switch try await call(
                .summarize, language: request.language, papers: [request.paper.id], messages: messages,
                maxTokens: Self.summaryMaxTokens, useHeld: true)
            {
            case .capped:
                await fallbacks.add([request.paper.id], reason: .cap)
                return fallback
            case .stopped:
                await fallbacks.add([request.paper.id], reason: .failed)
                return fallback
            case .failed(let error):
                await fallbacks.add([request.paper.id], reason: error.kind == .unusable ? .invalid : .failed)
                return fallback
            case .answer(let answer, let reserved):
                completion = answer
                reservation = reserved
            }
            if completion.finishReason == "length" {
                problem = "it was cut off at the token limit; write two sentences per field"
                try await spending.record(
                    .summarize, language: request.language, papers: [request.paper.id], promptTokens: completion.promptTokens,
                    completionTokens: completion.completionTokens, latency: completion.latency, outcome: .invalid,
                    detail: "the answer was cut off at max_tokens", reservation: reservation)
                continue
            }
            switch ModelAnswer.summary(in: completion.content) {
            case .success(let fields):
                let (summary, dropped) = NumberCheck.checked(
                    Summary(title: fields.title, background: fields.background, innovation: fields.innovation,
                            details: fields.details, results: fields.results, source: .llm),
                    against: request.paper, fallback: fallback)
                try await spending.record(
                    .summarize, language: request.language, papers: [request.paper.id], promptTokens: completion.promptTokens,
                    completionTokens: completion.completionTokens, latency: completion.latency, outcome: .ok,
                    detail: dropped > 0 ? "dropped \(dropped) sentence(s) with numbers not in the abstract" : nil, reservation: reservation)
                if dropped > 0 {
                    await fallbacks.droppedNumbers(request.paper.id, count: dropped)
                }
                return summary
            case .failure(let failure):
                try await spending.record(
                    .summarize, language: request.language, papers: [request.paper.id], promptTokens: completion.promptTokens,
                    completionTokens: completion.completionTokens, latency: completion.latency, outcome: .invalid,
                    detail: failure.description, reservation: reservation)
                problem = failure.description
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
        return SHA256.hash(data: Data(text.utf8)).hexEncoded
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var results: [T] = []
        for element in self { results.append(await transform(element)) }
        return results
    }
}

/// Which papers fell back to the heuristic, and why, for the digest's notes.
actor FallbackLog {
    enum Reason { case cap, failed, invalid }

    private var papers: [Reason: Set<String>] = [:]
    private var dropped: [String: Int] = [:]

    private var flagged: [String: (phrases: [String], score: Double)] = [:]

    /// - Parameter onlyIfNew: skip papers already logged for another reason.
    func add(_ ids: [String], reason: Reason, onlyIfNew: Bool = false) {
        let known = onlyIfNew ? papers.values.reduce(into: Set<String>()) { $0.formUnion($1) } : []
        papers[reason, default: []].formUnion(ids.filter { !known.contains($0) })
    }

    func flag(_ id: String, phrases: [String], score: Double) {
        flagged[id] = (phrases, score)
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
            notes.append("the model's answer was still unusable when asked again for \(ids.count) paper(s), curated by the heuristic (\(ids.sorted().joined(separator: ", ")))")
        }
        for (id, flag) in flagged.sorted(by: { $0.key < $1.key }) {
            notes.append(
                "\(id): its text addresses the model (\"\(flag.phrases.joined(separator: "\", \""))\"); "
                    + "the model's score \(String(format: "%.1f", flag.score)) was capped at \(String(format: "%.0f", LLMCurator.injectionCap))")
        }
        for (id, count) in dropped.sorted(by: { $0.key < $1.key }) {
            notes.append("\(id): dropped \(count) sentence(s) with numbers not in the abstract")
        }
        return notes
    }
}
