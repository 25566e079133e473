import Foundation
import Mail
import PaperPostCore
import PaperPostStore
import Rendering

/// 100,000 personal emails of a 50/9 digest sent over 4 SMTP connections to Postfix's
/// `smtp-sink` on 127.0.0.1 with the delivery log on, against what Postfix's own
/// `smtp-source -d -s 4` reaches on the same sink with the same message size.
/// Targets (issue 6): at least half of smtp-source's rate, under 200 MB peak memory.
enum SendingBenchmark {
    static func run(templates: String, messages: Int) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-sink") else {
            print("sending: skipped, Postfix's smtp-sink is not installed (apt-get install postfix)")
            return
        }
        let port = 20_000 + Int.random(in: 0..<10_000)
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-sink")
        sink.arguments = ["-u", "nobody", "127.0.0.1:\(port)", "1000"]
        sink.standardOutput = FileHandle.nullDevice
        try sink.run()
        // smtp-sink shrugs off SIGTERM once it has dropped privileges.
        defer { kill(sink.processIdentifier, SIGKILL) }
        try await Task.sleep(for: .milliseconds(300))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paperpost-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var settings = Settings(
            baseURL: "https://digest.example.org", templatesDirectory: templates,
            mail: MailSettings(secret: "bench-secret"),
            delivery: DeliverySettings(smtpURL: "smtp://127.0.0.1:\(port)", tls: .off, connections: 4))
        settings.databasePath = directory.appendingPathComponent("bench.sqlite").path
        let database = try PaperPostDatabase.open(path: settings.databasePath)

        let digest = RenderingBenchmark.digest()
        _ = try await PaperStore(database: database).record(
            day: digest.day, categories: digest.categories,
            papers: digest.entries.map { AnnouncedPaper(paper: $0.paper, announceType: .new) }, source: "bench")
        try await CurationStore(database: database).save(digest)
        var csv = "email,name,categories,language\n"
        for index in 0..<messages {
            let categories = RenderingBenchmark.categorySets[(index / 2) % RenderingBenchmark.categorySets.count].joined(separator: ";")
            csv += "reader\(index)@example.com,Reader \(index),\(categories),\(index % 2 == 0 ? "zh" : "en")\n"
        }
        let importStart = ContinuousClock.now
        _ = try await SubscriberStore(database: database, settings: settings).importCSV(Data(csv.utf8), file: "bench.csv", options: ImportOptions())
        let imported = ContinuousClock.now - importStart

        let cpuBefore = processCPUSeconds()
        let start = ContinuousClock.now
        let report = try await SendJob(settings: settings, database: database, transport: try SMTPTransport(settings: settings.delivery))
            .run(SendOptions(day: digest.day))
        let elapsed = ContinuousClock.now - start
        let cpu = processCPUSeconds() - cpuBefore
        let sent = report.progress.sent
        let rate = Double(sent) / elapsed.seconds
        let log = try await DeliveryStore(database: database).stats(day: digest.day)
        let averageSize = try await DeliveryStore(database: database).deliveries(day: digest.day, state: .sent).prefix(1000)
            .compactMap(\.bytes).reduce(0, +) / max(1, min(sent, 1000))

        let baseline = try smtpSource(port: port, messages: messages, size: averageSize)
        print("sending: \(sent) of \(messages) messages over 4 connections to smtp-sink, delivery log on (import of \(messages) subscribers took \(imported.ms))")
        print("  PaperPost \(String(format: "%.0f", rate)) msg/s (\(elapsed.ms)); smtp-source -d -s 4 -l \(averageSize): "
            + "\(String(format: "%.0f", baseline)) msg/s; ratio \(String(format: "%.2f", rate / baseline))  [target ≥ 0.50]")
        print("  log: " + log.filter { $0.1 > 0 }.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
            + "; CPU \(String(format: "%.1f", cpu)) s over \(String(format: "%.1f", elapsed.seconds)) s (\(String(format: "%.0f", cpu / Double(max(1, sent)) * 1e6)) µs a message)"
            + "; peak memory \(RenderingBenchmark.peakMemoryMB()) MB  [target < 200 MB]")
    }

    /// Postfix's own load generator on the same sink: messages per second.
    static func smtpSource(port: Int, messages: Int, size: Int) throws -> Double {
        let source = Process()
        source.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-source")
        source.arguments = ["-d", "-s", "4", "-m", String(messages), "-l", String(size), "-f", "bench@example.org", "-t", "sink@example.org", "127.0.0.1:\(port)"]
        let start = ContinuousClock.now
        try source.run()
        source.waitUntilExit()
        return Double(messages) / (ContinuousClock.now - start).seconds
    }
}

/// User + system CPU time of this process so far, from /proc/self/stat.
func processCPUSeconds() -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / 100
}
