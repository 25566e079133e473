import Foundation
import TestSupport
import PaperPostCore
import PaperPostStore
import struct Crypto.SymmetricKey

/// `GET /unsubscribe` and the RFC 8058 `POST /unsubscribe` against the real `paperpost serve`
/// (release build, request log on), loaded by `wrk` on loopback: each request carries a
/// different subscriber's token, so the POSTs are real unsubscribes until every one is done.
/// Targets (issue 7): at least 2,000 requests/s each, p99 latency under 50 ms.
enum WebBenchmark {
    static let subscribers = 30_000

    static func run(templates: String) async throws {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            print("web: skipped, wrk is not installed (apt-get install wrk)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paperpost-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var settings = Settings(templatesDirectory: templates, mail: MailSettings(secret: "bench-secret-of-at-least-32-bytes"))
        settings.databasePath = directory.appendingPathComponent("bench.sqlite").path
        let database = try PaperPostDatabase.open(path: settings.databasePath)
        let store = SubscriberStore(database: database, settings: settings)
        var csv = "email,categories\n"
        for index in 0..<subscribers { csv += "reader\(index)@example.com,cs.AI\n" }
        _ = try await store.importCSV(Data(csv.utf8), file: "bench.csv", options: ImportOptions())
        // A day's digest for the archive page: the rendering bench's 50 scanned, 9 picked.
        let digest = RenderingBenchmark.digest()
        _ = try await PaperStore(database: database).record(
            day: digest.day, categories: digest.categories,
            papers: digest.entries.map { AnnouncedPaper(paper: $0.paper, announceType: .new) }, source: "bench")
        try await CurationStore(database: database).save(digest)
        let secret = try ServerSecret.load(settings)
        let paths = try await store.recipients().map { recipient in
            "/unsubscribe?token=" + LinkToken(purpose: .unsubscribe, subscriberID: recipient.subscriberID)
                .signed(serverSecret: secret, subscriberSecret: recipient.linkSecret)
        }

        let server = try await ServeProcess(
            executable: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("paperpost"),
            directory: directory,
            environment: ["PAPERPOST_DB": settings.databasePath, "PAPERPOST_TEMPLATES": templates, "PAPERPOST_SECRET": "bench-secret-of-at-least-32-bytes"])

        print("web: paperpost serve (release, request log on) under wrk -t2 -c32 -d10s, \(subscribers) subscribers, a different token per request")
        for method in ["GET", "POST"] {
            let script = directory.appendingPathComponent("\(method).lua")
            try Data(luaScript(method: method, paths: paths).utf8).write(to: script)
            let result = try runWrk(wrk, script: script.path, url: server.baseURL)
            print("  \(method) /unsubscribe: \(result.requestsPerSecond) req/s, p99 \(result.p99), non-2xx \(result.errors)  [target ≥ 2000 req/s, p99 < 50 ms]")
        }
        // A past edition: the same page for every reader, rendered once (issue 16).
        for language in ["en", "zh"] {
            let script = directory.appendingPathComponent("archive-\(language).lua")
            try Data(#"wrk.path = "/archive/\#(digest.day)?lang=\#(language)""#.utf8).write(to: script)
            let result = try runWrk(wrk, script: script.path, url: server.baseURL)
            print("  GET /archive/\(digest.day)?lang=\(language): \(result.requestsPerSecond) req/s, p99 \(result.p99), non-2xx \(result.errors)  [target ≥ 5000 req/s, p99 < 20 ms]")
        }
        _ = try await server.terminate()
        let unsubscribed = try await store.stats().byStatus.first { $0.0 == .unsubscribed }?.1 ?? 0
        print("  the POSTs unsubscribed \(unsubscribed) of \(subscribers) subscribers (the rest were repeats, which change nothing)")
    }

    static func luaScript(method: String, paths: [String]) -> String {
        """
        local paths = {
        \(paths.map { "\"\($0)\"," }.joined(separator: "\n"))
        }
        local counter = 0
        local threads = 0
        function setup(thread)
          thread:set("offset", threads * \(paths.count / 2))
          threads = threads + 1
        end
        function init(args)
          counter = offset or 0
        end
        function request()
          counter = counter + 1
          local path = paths[(counter % #paths) + 1]
          \(method == "POST"
            ? #"return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")"#
            : #"return wrk.format("GET", path)"#)
        end
        """
    }

    struct WrkResult {
        var requestsPerSecond: String
        var p99: String
        var errors: Int
    }

    static func runWrk(_ wrk: String, script: String, url: String) throws -> WrkResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t2", "-c32", "-d10s", "--latency", "-s", script, url]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        func field(_ prefix: String) -> String? {
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix(prefix) }?
                .dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
        }
        return WrkResult(
            requestsPerSecond: field("Requests/sec:") ?? "?", p99: field("99%") ?? "?",
            errors: field("Non-2xx or 3xx responses:").flatMap { Int($0) } ?? 0)
    }
}
