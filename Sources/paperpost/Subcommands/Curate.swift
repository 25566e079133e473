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
            heuristic reads the abstracts.
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

    @Option(help: "Stop calling the model once this much is spent (PAPERPOST_LLM_MAX_COST).")
    var maxCost: Double?

    @Option(help: "Requests to the model in flight at once (PAPERPOST_LLM_CONCURRENCY).")
    var concurrency: Int?

    func validate() throws {
        guard scan >= 1, mustRead >= 0, more >= 0, mustRead + more >= 1 else {
            throw ValidationError("--scan must be at least 1, and --must-read plus --more at least 1")
        }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let maxCost, maxCost < 0 { throw ValidationError("--max-cost cannot be negative") }
    }

    func run() async throws {
        var (database, settings) = try await global.database()
        settings.llm.maxCost = maxCost ?? settings.llm.maxCost
        settings.llm.concurrency = concurrency ?? settings.llm.concurrency
        if settings.llm.maxCost != nil && settings.llm.pricePerMillionInput == nil {
            Terminal.error("warning: --max-cost has no effect without PAPERPOST_LLM_PRICE_INPUT and PAPERPOST_LLM_PRICE_OUTPUT")
        }
        let digest = try await Curation(settings: settings, database: database)
            .run(CurationOptions(day: date, scan: scan, mustRead: mustRead, more: more, force: force))
        print(digest.summaryLine)
        for note in digest.notes {
            print("note: \(note)")
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
