import ArgumentParser
import Curation
import PaperPostCore
import PaperPostStore

struct Curate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score the day's papers, pick the best and summarise them.",
        discussion: """
            With PAPERPOST_LLM_API_KEY set, an OpenAI-compatible model does the work and every call is
            recorded with its tokens and cost; answers are cached, so running it again bills nothing
            (--force asks again). Without a key, or for what the model cannot do, a clearly labelled
            heuristic reads the abstracts. When the model fails (refused key, model or balance; an
            endpoint that keeps failing; PAPERPOST_LLM_DEADLINE passed) it exits 2 and stores no
            digest, or, with PAPERPOST_LLM_FALLBACK=heuristic, stores a labelled heuristic digest and
            exits 3.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The arXiv mailing day (default: the latest announcement fetched).")
    var date: Day?

    @Option(help: "Score at most this many papers; above it the heuristic pre-ranks.")
    var scan = 50

    @Option(help: "Papers with a deep summary, per edition.")
    var mustRead = 2

    @Option(help: "Further picks with a one-line reason, per edition.")
    var more = 7

    @Flag(help: "Ask the model again even where answers are cached.")
    var force = false

    @Option(help: "The most the day's digest may cost, over every run for that day (PAPERPOST_LLM_MAX_COST).")
    var maxCost: Double?

    @Option(help: "Requests to the model in flight at once (PAPERPOST_LLM_CONCURRENCY).")
    var concurrency: Int?

    static let scanLimit = SettingLimit(1...10_000, wholeNumber: true, "papers the model scores")
    static let mustReadLimit = SettingLimit(0...100, wholeNumber: true, "papers with a deep summary")
    static let moreLimit = SettingLimit(0...1_000, wholeNumber: true, "further picks")

    func validate() throws {
        try Self.scanLimit.validate(scan, flag: "--scan")
        try Self.mustReadLimit.validate(mustRead, flag: "--must-read")
        try Self.moreLimit.validate(more, flag: "--more")
        guard mustRead + more >= 1 else {
            throw ValidationError("--must-read plus --more must be at least 1")
        }
        try SettingLimit.llmConcurrency.validate(concurrency, flag: "--concurrency")
        try SettingLimit.llmMaxCost.validate(maxCost, flag: "--max-cost")
    }

    func run() async throws {
        var settings = try await global.settings()
        settings.llm.maxCost = maxCost ?? settings.llm.maxCost
        settings.llm.concurrency = concurrency ?? settings.llm.concurrency
        if settings.llm.maxCost != nil && settings.llm.pricePerMillionInput == nil {
            Terminal.error("warning: --max-cost has no effect without PAPERPOST_LLM_PRICE_INPUT and PAPERPOST_LLM_PRICE_OUTPUT")
        }
        let options = CurationOptions(day: date, scan: scan, mustRead: mustRead, more: more, force: force)
        let digest = try await global.withStores(settings) { [settings] stores in
            try await Curation(settings: settings, papers: stores.papers, ledger: stores.curation, subscribers: stores.subscribers).run(options)
        }
        print(digest.summaryLine)
        for note in digest.notes {
            print("note: \(note)")
        }
        if let failure = digest.modelFailure {
            Terminal.error("paperpost: the model failed, so the digest of \(digest.day) is the heuristic fallback "
                + "(PAPERPOST_LLM_FALLBACK=heuristic): \(failure)")
            throw ExitCode.partial
        }
    }
}

extension Digest {
    /// `curated 2026-02-20 (llm, deepseek-chat): scanned 50 of 64, picked 9; tokens 61,155; cost ¥0.0198`
    var summaryLine: String {
        let cost = usage.cost.map { String(format: "%.4f %@", $0, usage.currency) } ?? "not priced"
        return "curated \(day) (\(mode.rawValue)\(model.map { ", \($0)" } ?? "")): scanned \(scanned) of \(candidates), "
            + "picked \(picks.count); tokens \(usage.totalTokens) (\(usage.promptTokens) in, \(usage.completionTokens) out); cost \(cost)"
    }
}
