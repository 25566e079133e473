import Foundation
import PaperPostCore
import TestSupport
import Testing

/// The daily job (fetch, curate with a model, send) on the PostgreSQL store, against the same
/// job on SQLite: the same papers, digest, ledger and mail.
@Suite("the daily job on PostgreSQL")
struct PostgresDailyTests {
    /// An installation with the fixture list of subscribers and a model, on SQLite.
    func installation(_ directory: URL, model: LocalLLMServer) async throws -> CommandLineRunner {
        let cli = CurateCommandTests().modelCLI(directory, model, ["PAPERPOST_SECRET": String(repeating: "k", count: 40)])
        let subscribers = try #require(Bundle.module.url(forResource: "Fixtures/subscribers", withExtension: "csv"))
        let imported = try await cli.run("subscribers", "import", subscribers.path)
        try #require(imported.status == 0, "\(imported.stderr)")
        return cli
    }

    /// The table's rows without the columns that hold the time of the run, JSON values with
    /// their keys sorted (each process's encoder orders them its own way) and their fractions
    /// to nine places (a sum of costs in SQL differs in its last bits with the order of the rows).
    func rows(_ table: String, sqlite path: String? = nil, postgres url: String? = nil, dropping times: Set<Int> = []) async throws -> [[String?]] {
        let all = if let url { try await TestPostgres.rows(of: table, at: url) } else { try TestPostgres.rows(of: table, inSQLite: path!) }
        func normalized(_ text: String?) -> String? {
            func rounded(_ value: Any) -> Any {
                switch value {
                case let object as [String: Any]: object.mapValues(rounded)
                case let array as [Any]: array.map(rounded)
                case let number as Double where number != number.rounded(): (number * 1e9).rounded() / 1e9
                default: value
                }
            }
            guard let text, text.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
                let sorted = try? JSONSerialization.data(withJSONObject: rounded(object), options: [.sortedKeys])
            else { return text }
            return String(decoding: sorted, as: UTF8.self)
        }
        return all.map { (row: [String?]) in row.enumerated().filter { !times.contains($0.offset) }.map { normalized($0.element) } }
            .sorted { $0.lexicographicallyPrecedes($1) { ($0 ?? "") < ($1 ?? "") } }
    }

    @Test("daily fetches, curates with the model and mails on PostgreSQL exactly as on SQLite; a rerun sends nothing and asks the model nothing")
    func sameAsSQLite() async throws {
        let model = try await LocalLLMServer()
        defer { model.stop() }
        let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
        try await withTemporaryDirectory { sqliteDirectory in
            try await withTemporaryDirectory { postgresDirectory in
                let onSQLite = try await installation(sqliteDirectory, model: model)
                let onPostgres = try await SendCrashTests().movedToPostgres(try await installation(postgresDirectory, model: model))
                let url = try #require(onPostgres.environment["PAPERPOST_DB"])

                let sqliteRun = try await onSQLite.run("daily", "--feed", feed.path, "--transport", "outbox")
                let postgresRun = try await onPostgres.run("daily", "--feed", feed.path, "--transport", "outbox")
                #expect(sqliteRun.status == 0, "\(sqliteRun.stderr)")
                #expect(postgresRun.status == 0, "\(postgresRun.stderr)")
                #expect(postgresRun.stdout.contains("curate: curated 2025-08-20 (llm, test-model)"), "\(postgresRun.stdout)")
                let strip: (String) -> String = { $0.replacingOccurrences(of: #"in [0-9.]+ s"#, with: "", options: .regularExpression) }
                #expect(strip(postgresRun.stdout) == strip(sqliteRun.stdout), "the same fetch, digest and send summary")
                func messages(_ directory: URL) -> [String] {
                    let outbox = FileManager.default.enumerator(atPath: directory.appendingPathComponent("var/outbox").path)
                    return (outbox?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".eml") }
                }
                let mailed = messages(postgresDirectory)
                #expect(!mailed.isEmpty && mailed.count == messages(sqliteDirectory).count)

                let path = sqliteDirectory.appendingPathComponent("var/paperpost.sqlite").path
                // Columns holding the run's own time: paper's first_seen_at and updated_at,
                // announcement's fetched_at, digest's created_at, llm_cache's created_at.
                let tables: [(String, Set<Int>)] = [
                    ("paper", [12, 13]), ("paper_category", []), ("announcement", [4]), ("announcement_paper", []),
                    ("digest", [10]), ("digest_entry", []), ("digest_reason", []), ("digest_summary", []), ("llm_cache", [7]),
                ]
                for (table, times) in tables {
                    let original = try await rows(table, sqlite: path, dropping: times)
                    #expect(!original.isEmpty, "\(table)")
                    let copy = try await rows(table, postgres: url, dropping: times)
                    #expect(copy == original, "\(table) differs: \(zip(copy, original).first { $0 != $1 }.map { "\($0) against \($1)" } ?? "count")")
                }
                // The ledger: the same calls, tokens and cost (ids, latency and time differ).
                let ledger = Set([0, 10, 13])
                let calls = try await rows("llm_call", sqlite: path, dropping: ledger)
                #expect(try await rows("llm_call", postgres: url, dropping: ledger) == calls)
                let states: ([[String?]]) -> [String] = { $0.map { "\($0[2] ?? "") \($0[3] ?? "")" }.sorted() }
                let logged = states(try await rows("delivery", sqlite: path))
                #expect(logged.filter { $0.hasSuffix(" sent") }.count == mailed.count)
                #expect(states(try await rows("delivery", postgres: url)) == logged, "the same readers sent and skipped")
                let run = try await rows("daily_run", postgres: url)
                #expect(run.count == 1 && run[0][1] == "2025-08-20" && run[0][4] == "ok", "\(run)")

                for command in [["papers", "--format", "csv"], ["digest", "show", "--format", "table"], ["digest", "show", "--language", "zh"]] {
                    let (original, copy) = (try await onSQLite.run(command), try await onPostgres.run(command))
                    #expect(copy.status == 0 && !copy.stdout.isEmpty, "\(command): \(copy.stderr)")
                    #expect(copy.stdout == original.stdout, "\(command)")
                }

                let again = try await onPostgres.run("daily", "--feed", feed.path, "--transport", "outbox")
                #expect(again.status == 0, "\(again.stderr)")
                #expect(again.stdout.contains("already fetched") && again.stdout.contains("the digest of 2025-08-20 exists"), "\(again.stdout)")
                #expect(again.stdout.contains("0 sent"), "\(again.stdout)")
                let recurated = try await onPostgres.run("curate")
                #expect(recurated.status == 0, "\(recurated.stderr)")
                #expect(try await rows("llm_call", postgres: url, dropping: ledger) == calls, "cached answers, no new model call")
                #expect(try await rows("daily_run", postgres: url).count == 2)
            }
        }
    }
}
