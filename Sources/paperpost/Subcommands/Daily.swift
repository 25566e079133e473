import ArgumentParser
import ArxivSource
import Curation
import Foundation
import Mail
import PaperPostCore
import PaperPostStore

struct Daily: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The daily job: fetch, curate, send.",
        discussion: """
            Each step is idempotent: a second run on the same day fetches nothing new, bills no
            tokens and sends nothing twice, and a run after a partial failure continues where it
            stopped. A day without an arXiv announcement ends with exit 0.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var sending: SendingOptions

    @Option(help: "The day the job runs for (YYYY-MM-DD, US Eastern; default: today).")
    var date: Day?

    @Option(help: "Ingest a saved announcement feed instead of asking arXiv (offline use, demos).")
    var feed: String?

    @Option(help: "Saved arXiv API responses with the papers' details (with --feed; repeatable).")
    var details: [String] = []

    @Flag(help: "Curate again even if the day's digest exists (cached answers are still reused).")
    var recurate = false

    func run() async throws {
        var settings = try await global.settings()
        let transport = try sending.transport(&settings)
        try await global.withStores(settings, connections: settings.delivery.connections + 4) { [settings] stores in
            try await run(settings: settings, stores: stores, transport: transport)
        }
    }

    private func run(settings: Settings, stores: Stores, transport: any MailTransport) async throws {
        // Recorded for the operator's metrics: when the job ran and how it ended.
        let runs = stores.runs
        let run = try await runs.start()
        do {
            let outcome = try await job(settings: settings, stores: stores, transport: transport) { day in
                try await runs.setDay(run, day)
            }
            try await runs.finish(run, outcome: outcome)
            if outcome == .partial { throw ExitCode.partial }
        } catch let exit as ExitCode where exit == .partial {
            throw exit
        } catch {
            try? await runs.finish(run, outcome: .failed, detail: "\(error)")
            throw error
        }
    }

    /// Fetch, curate, send; `started` learns the day as soon as the fetch names it.
    private func job(
        settings: Settings, stores: Stores, transport: any MailTransport, started: (Day) async throws -> Void
    ) async throws -> DailyRun.Outcome {
        let inUse = try await stores.subscribers.activeCategories()
        let categories = settings.defaultCategories + inUse.filter { !settings.defaultCategories.contains($0) }
        let source: AnnouncementSource =
            if let feed { .files(feed: feed, details: details) } else { .arxiv(ArxivClient(settings: settings, version: PaperPostVersion.current)) }

        let fetched = try await AnnouncementFetch(papers: stores.papers)
            .run(FetchRequest(day: date, categories: categories, includeCrossLists: settings.arxivCrossLists), from: source)
        print("fetch: \(fetched.summary.split(separator: "\n").first ?? "")")
        try await started(fetched.day)
        guard let announcement = try await stores.papers.announcement(on: fetched.day), !announcement.isEmpty else {
            print("nothing today: arXiv announced no papers for \(fetched.day)")
            return .noAnnouncement
        }

        let digest: Digest
        if !recurate, let existing = try await stores.curation.digest(on: fetched.day) {
            digest = existing
            print("curate: the digest of \(digest.day) exists; nothing to do")
        } else {
            digest = try await Curation(settings: settings, papers: stores.papers, ledger: stores.curation, subscribers: stores.subscribers)
                .run(CurationOptions(day: fetched.day))
            print("curate: \(digest.summaryLine)")
        }

        if let failure = digest.modelFailure {
            Terminal.error("paperpost: the model failed, so the digest of \(digest.day) is the heuristic fallback "
                + "(PAPERPOST_LLM_FALLBACK=heuristic) and is sent as such: \(failure)")
        }
        let report = try await deliver(SendOptions(day: digest.day), settings: settings, store: stores.sending, transport: transport)
        return report.isPartial || digest.modelFailure != nil ? .partial : .ok
    }
}
