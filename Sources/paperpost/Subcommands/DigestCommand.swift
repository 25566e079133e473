import ArgumentParser
import Curation
import Foundation
import PaperPostCore
import PaperPostStore
import Rendering

struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "Curated digests.", subcommands: [ShowDigest.self], defaultSubcommand: ShowDigest.self)
}

struct ShowDigest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a curated digest.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The arXiv mailing day (default: the latest digest).")
    var date: Day?

    @Option(help: "markdown, table or json (json has every field).")
    var format: DigestFormat = .markdown

    @Option(help: "zh or en (default: PAPERPOST_DEFAULT_LANGUAGE).")
    var language: Language?

    @Option(help: "Only a reader's edition for these categories, e.g. cs.CV,cs.RO.")
    var categories: String?

    enum DigestFormat: String, ExpressibleByArgument, CaseIterable {
        case markdown, table, json
    }

    func run() async throws {
        let settings = try await global.settings()
        let digest = try await global.withStores(settings, connections: 1) { stores in
            try await explainMissingDigest(stores)
            return try await loadDigest(date, papers: stores.papers, digests: stores.curation)
        }
        switch format {
        case .markdown:
            let markdown = try DigestMarkdown(templatesDirectory: settings.templatesDirectory)
            Terminal.write(markdown.render(
                digest, language: language ?? settings.defaultLanguage, categories: try categories.map { try categoryList([$0]) }))
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Terminal.write(String(decoding: try encoder.encode([DigestJSON(digest)]), as: UTF8.self) + "\n")
        case .table:
            print(digest.summaryLine)
            if let failure = digest.modelFailure {
                print("the model failed; this is the heuristic fallback: \(failure)")
            }
            var listing = Listing(columns: ["rank", "pick", "score", "by", "id", "primary", "title"])
            for (index, entry) in digest.entries.enumerated() {
                listing.append([
                    .number(index + 1), .text(digest.pick(at: index)), .text(String(format: "%.1f", entry.score)),
                    .text(entry.scoredBy.rawValue), .text(entry.paper.id), .text(entry.paper.primaryCategory),
                    .text(entry.paper.title.truncated(toWidth: 60)),
                ])
            }
            Terminal.write(listing.rendered(as: .table))
        }
    }
}

extension ShowDigest {
    /// A day whose curation failed has no digest: say why, from the ledger, instead of
    /// suggesting a first run.
    func explainMissingDigest(_ stores: Stores) async throws {
        let store = stores.curation
        let latest = try await stores.papers.latestDay()
        guard let day = date ?? latest, try await store.digest(on: day) == nil else { return }
        // The cause, not its consequences: calls in flight when the run stopped are recorded as
        // abandoned, possibly after the refusal that stopped it.
        let failures = try await store.calls(on: day).filter { $0.outcome == .failed }
        guard let failed = failures.last(where: { !($0.detail ?? "").hasPrefix("abandoned") }) ?? failures.last else { return }
        throw ValidationError(
            "no digest for \(day): the last curation failed and stored none (PAPERPOST_LLM_FALLBACK=none); "
                + "its last failed call: \(failed.detail ?? "no detail"). Fix that and run 'paperpost curate' or 'paperpost daily' again")
    }
}

extension Digest {
    func pick(at index: Int) -> String? {
        index < mustRead ? "must_read" : index < mustRead + more ? "more" : nil
    }
}

/// `digest show --format json`: every field, with stable snake_case keys.
struct DigestJSON: Encodable {
    struct Entry: Encodable {
        var rank: Int
        var id: String
        var version: Int
        var title: String
        var authors: [String]
        var primary_category: String
        var categories: [String]
        var score: Double
        var scored_by: String
        var pick: String?
        var category_ranks: [String: Int]
        var reasons: [String: String]
        var summaries: [String: SummaryJSON]
        /// Phrases of the paper's own text that address the model; its model score was capped.
        var addresses_model: [String]
    }

    struct SummaryJSON: Encodable {
        var title, background, innovation, details, results, source: String
        /// Fields holding the abstract's original English sentences, to be labelled as such.
        var original_fields: [String]
    }

    var day: String
    var mode: String
    var model: String?
    var candidates: Int
    var scanned: Int
    var picked: Int
    var must_read: Int
    var more: Int
    var languages: [String]
    var categories: [String]
    var prompt_tokens: Int
    var completion_tokens: Int
    var total_tokens: Int
    var cost: Double?
    var currency: String
    var notes: [String]
    /// Why the model failed, when this digest is the heuristic fallback.
    var model_failure: String?
    var entries: [Entry]

    init(_ digest: Digest) {
        day = digest.day.description
        mode = digest.mode.rawValue
        model = digest.model
        candidates = digest.candidates
        scanned = digest.scanned
        picked = digest.picks.count
        must_read = digest.mustRead
        more = digest.more
        languages = digest.languages.map(\.rawValue)
        categories = digest.categories
        prompt_tokens = digest.usage.promptTokens
        completion_tokens = digest.usage.completionTokens
        total_tokens = digest.usage.totalTokens
        cost = digest.usage.cost
        currency = digest.usage.currency
        notes = digest.notes
        model_failure = digest.modelFailure
        var categoryCounters: [String: Int] = [:]
        entries = digest.entries.enumerated().map { index, entry in
            var ranks: [String: Int] = [:]
            for category in entry.paper.categories where digest.categories.contains(category) {
                categoryCounters[category, default: 0] += 1
                ranks[category] = categoryCounters[category]
            }
            return Entry(
                rank: index + 1, id: entry.paper.id, version: entry.paper.version, title: entry.paper.title,
                authors: entry.paper.authors, primary_category: entry.paper.primaryCategory, categories: entry.paper.categories,
                score: entry.score, scored_by: entry.scoredBy.rawValue, pick: digest.pick(at: index), category_ranks: ranks,
                reasons: Dictionary(uniqueKeysWithValues: entry.reasons.map { ($0.key.rawValue, $0.value) }),
                summaries: Dictionary(uniqueKeysWithValues: entry.summaries.map { language, summary in
                    (language.rawValue, SummaryJSON(
                        title: summary.title, background: summary.background, innovation: summary.innovation,
                        details: summary.details, results: summary.results, source: summary.source.rawValue,
                        original_fields: summary.originalFields.map(\.rawValue).sorted()))
                }),
                addresses_model: PromptInjection.phrases(in: entry.paper))
        }
    }
}
