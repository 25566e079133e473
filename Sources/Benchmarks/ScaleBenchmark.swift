import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport

/// Issue 16's table: the commands operators run, each as its own `paperpost` process (its
/// peak memory is its own), on lists of 10,000, 100,000 and 1,000,000 subscribers, sending to
/// Postfix's `smtp-sink` over 4 connections with the delivery log on.
///
/// Targets: peak memory of `import`, `curate`, `send` and `export` under 100 MB at 1,000,000
/// and within 10 % of the 10,000 figure; the send rate at 1,000,000 within 10 % of the rate at
/// 100,000; the first message out within 2 s of the start; an import of 1,000,000 rows under
/// 60 s. Sizes: `PAPERPOST_BENCH_SCALE` (default `10000,100000,1000000`). Last, `paperpost
/// migrate` copies each installation into a new database on the PostgreSQL server named by
/// `PAPERPOST_BENCH_POSTGRES_URL` (`make bench` starts a throwaway one).
enum ScaleBenchmark {
    struct Figures {
        var size: Int
        var importTime: Double = 0, importMB = 0
        var curateTime: Double = 0, curateMB = 0
        var sendTime: Double = 0, sendMB = 0, sent = 0, firstMessage: Double?
        var statsTime: Double = 0
        var exportTime: Double = 0, exportMB = 0
        var databaseMB = 0.0
        var migrateTime: Double?, migrateMB = 0

        var rate: Double { Double(sent) / max(sendTime, 1e-9) }
    }

    static func run(templates: String, sizes: [Int]) async throws {
        guard SMTPSink.isInstalled, FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else {
            print("scale: skipped, it needs Postfix's smtp-sink and GNU time (make bench-deps)")
            return
        }
        let sink = try SMTPSink.start()
        defer { sink.stop() }
        // `paperpost migrate` into the PostgreSQL server `make bench` starts.
        let postgres = ProcessInfo.processInfo.environment["PAPERPOST_BENCH_POSTGRES_URL"]
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("paperpost")
        var rows: [Figures] = []
        for size in sizes {
            rows.append(try await measure(size: size, executable: executable, templates: templates, port: sink.port, postgres: postgres))
            print(table(rows))
        }
    }

    static func table(_ rows: [Figures]) -> String {
        func mb(_ value: Int) -> String { "\(value) MB" }
        var lines = [
            "scale: each command a `paperpost` process; send over 4 connections to smtp-sink, delivery log on",
            "  subscribers | import       | curate      | send: rate, first message, peak | deliveries stats | export      | database | migrate to PostgreSQL",
        ]
        for row in rows {
            lines.append(
                "  " + [
                    String(format: "%11d", row.size),
                    String(format: "%6.1f s %@", row.importTime, mb(row.importMB)),
                    String(format: "%5.1f s %@", row.curateTime, mb(row.curateMB)),
                    String(format: "%5.0f msg/s, %@, %@", row.rate, row.firstMessage.map { String(format: "%.2f s", $0) } ?? "?", mb(row.sendMB)),
                    String(format: "%6.2f s", row.statsTime),
                    String(format: "%5.1f s %@", row.exportTime, mb(row.exportMB)),
                    String(format: "%.0f MB", row.databaseMB),
                    row.migrateTime.map { String(format: "%5.1f s %@", $0, mb(row.migrateMB)) } ?? "skipped: PAPERPOST_BENCH_POSTGRES_URL unset",
                ].joined(separator: " | "))
        }
        if let first = rows.first, let last = rows.last, last.size > first.size {
            func flat(_ a: Int, _ b: Int) -> String { String(format: "%+.0f %%", 100 * (Double(b) / Double(max(a, 1)) - 1)) }
            lines.append(
                "  peak memory \(first.size) → \(last.size): import \(flat(first.importMB, last.importMB)), curate \(flat(first.curateMB, last.curateMB)), "
                    + "send \(flat(first.sendMB, last.sendMB)), export \(flat(first.exportMB, last.exportMB))  [targets: < 100 MB, within +10 %]")
            if rows.count >= 2 {
                let previous = rows[rows.count - 2]
                lines.append(String(
                    format: "  send rate %d → %d: %+.0f %%  [target: within 10 %%]; import of %d rows %.1f s  [target at 1,000,000: < 60 s]",
                    previous.size, last.size, 100 * (last.rate / max(previous.rate, 1e-9) - 1), last.size, last.importTime))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func measure(size: Int, executable: URL, templates: String, port: Int, postgres: String?) async throws -> Figures {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paperpost-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let databasePath = directory.appendingPathComponent("scale.sqlite").path
        let digest = RenderingBenchmark.digest()
        do {
            let database = try PaperPostDatabase.open(path: databasePath)
            _ = try await PaperStore(database: database).record(
                day: digest.day, categories: digest.categories,
                papers: digest.entries.map { AnnouncedPaper(paper: $0.paper, announceType: .new) }, source: "bench")
        }
        let csv = directory.appendingPathComponent("readers.csv")
        try writeReaders(size, to: csv)

        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin", "PAPERPOST_DB": databasePath,
            "PAPERPOST_SMTP_URL": "smtp://127.0.0.1:\(port)", "PAPERPOST_SMTP_TLS": "off", "PAPERPOST_SMTP_CONNECTIONS": "4",
            "PAPERPOST_TEMPLATES": templates, "PAPERPOST_SECRET": "bench-secret-of-at-least-32-bytes",
            "PAPERPOST_BASE_URL": "https://digest.example.org",
        ]
        func paperpost(_ arguments: [String]) throws -> (seconds: Double, peakMB: Int) {
            try timed(executable, arguments, environment: environment, directory: directory)
        }
        var figures = Figures(size: size)
        (figures.importTime, figures.importMB) = try paperpost(["subscribers", "import", csv.path])
        (figures.curateTime, figures.curateMB) = try paperpost(["curate", "--date", digest.day.description])

        // The first message out: polled from the delivery log (WAL lets this process read
        // while the send writes), every 10 ms.
        let watcher = try PaperPostDatabase.open(path: databasePath)
        let start = ContinuousClock.now
        let first = Task<Double?, Never> {
            while !Task.isCancelled {
                let state = try? await DeliveryStore(database: watcher).stats(day: digest.day)
                if let state, state.contains(where: { [.sending, .sent].contains($0.0) && $0.1 > 0 }) {
                    return (ContinuousClock.now - start).seconds
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }
        (figures.sendTime, figures.sendMB) = try paperpost(["send", "--date", digest.day.description, "--force-unsafe"])
        first.cancel()
        figures.firstMessage = await first.value
        figures.sent = try await DeliveryStore(database: watcher).stats(day: digest.day).first { $0.0 == .sent }?.1 ?? 0
        (figures.statsTime, _) = try paperpost(["deliveries", "stats", "--date", digest.day.description])
        (figures.exportTime, figures.exportMB) = try paperpost(["subscribers", "export", directory.appendingPathComponent("export.csv").path])
        figures.databaseMB = ["", "-wal"].reduce(0.0) { total, suffix in
            total + Double((try? FileManager.default.attributesOfItem(atPath: databasePath + suffix)[.size] as? Int) ?? 0) / 1_048_576
        }
        if let postgres {
            let target = try await TestPostgres.newDatabase(on: postgres)
            let (seconds, peak) = try paperpost(["migrate", "--to", target])
            (figures.migrateTime, figures.migrateMB) = (seconds, peak)
        }
        return figures
    }

    /// The sending bench's readers: two languages, the rendering bench's category sets.
    static func writeReaders(_ count: Int, to file: URL) throws {
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var chunk = "email,name,categories,language\n"
        for index in 0..<count {
            let categories = RenderingBenchmark.categorySets[(index / 2) % RenderingBenchmark.categorySets.count].joined(separator: ";")
            chunk += "reader\(index)@example.com,Reader \(index),\(categories),\(index % 2 == 0 ? "zh" : "en")\n"
            if chunk.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(chunk.utf8))
                chunk = ""
            }
        }
        try handle.write(contentsOf: Data(chunk.utf8))
    }

    /// Runs a command under GNU time: its wall time and peak resident memory.
    static func timed(_ executable: URL, _ arguments: [String], environment: [String: String], directory: URL) throws -> (Double, Int) {
        let report = directory.appendingPathComponent("time.txt")
        let errors = directory.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "%e %M", "-o", report.path, executable.path] + arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        guard [0, 3].contains(process.terminationStatus) else {
            throw SendFailed(status: process.terminationStatus, output: "paperpost \(arguments.joined(separator: " ")):\n" + ((try? String(contentsOf: errors, encoding: .utf8)) ?? ""))
        }
        let fields = (try String(contentsOf: report, encoding: .utf8)).split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, let seconds = Double(fields[fields.count - 2]), let kilobytes = Int(fields[fields.count - 1]) else {
            throw SendFailed(status: 0, output: "cannot read GNU time's report: \((try? String(contentsOf: report, encoding: .utf8)) ?? "")")
        }
        return (seconds, kilobytes / 1024)
    }
}
