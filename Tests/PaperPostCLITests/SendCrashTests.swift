import Foundation
import TestSupport
import Testing

@Suite("paperpost send, killed and rerun", .serialized)
struct SendCrashTests {
    /// 30 subscribers, a fetched and curated day, and an SMTP server that answers slowly.
    func prepare(_ directory: URL, server: LocalSMTPServer) async throws -> CommandLineRunner {
        let cli = CommandLineRunner(directory: directory, environment: [
            "PAPERPOST_TEMPLATES": CurateCommandTests.templates, "PAPERPOST_SMTP_URL": server.url, "PAPERPOST_SMTP_TLS": "off",
            "PAPERPOST_SMTP_CONNECTIONS": "1", "PAPERPOST_SECRET": "test", "PAPERPOST_MAIL_FROM": "PaperPost <digest@example.org>",
        ])
        var csv = "email,categories\n"
        for index in 0..<30 { csv += "reader\(index)@example.com,cs.AI\n" }
        try Data(csv.utf8).write(to: directory.appendingPathComponent("readers.csv"))
        let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
        #expect(try await cli.run("subscribers", "import", "readers.csv").status == 0)
        #expect(try await cli.run("fetch", "--feed", feed.path).status == 0)
        #expect(try await cli.run("curate").status == 0)
        try await server.setRules([SMTPRule(stage: .rcpt, action: .stall(0.2))])
        return cli
    }

    /// Starts `paperpost send` and kills it with SIGKILL once the server has some messages.
    func killMidRun(_ cli: CommandLineRunner, server: LocalSMTPServer) async throws {
        let process = Process()
        process.executableURL = CommandLineRunner.executable
        process.arguments = ["send"]
        process.currentDirectoryURL = cli.directory
        process.environment = cli.environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 where try await server.messages().count < 5 {
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
    }

    func log(_ cli: CommandLineRunner) async throws -> [[String: Any]] {
        let result = try await cli.run("deliveries", "--format", "json")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
    }

    @Test("after SIGKILL a rerun leaves every subscriber with an outcome and sends nobody twice")
    func killedAndRerun() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = try await prepare(directory, server: server)
            try await killMidRun(cli, server: server)
            let interrupted = try await log(cli)
            let uncertain = Set(interrupted.filter { $0["state"] as? String == "sending" }.compactMap { $0["email"] as? String })
            #expect(!interrupted.isEmpty)

            try await server.setRules([])
            let rerun = try await cli.run("send")
            #expect(rerun.status == (uncertain.isEmpty ? 0 : 3))
            if !uncertain.isEmpty {
                #expect(rerun.stderr.contains("were being sent when a previous run stopped; marked failed (uncertain after crash)"))
            }
            let final = try await log(cli)
            #expect(final.count == 30)
            #expect(final.allSatisfy { ["sent", "failed"].contains($0["state"] as? String) })
            #expect(Set(final.filter { $0["state"] as? String == "failed" }.compactMap { $0["email"] as? String }) == uncertain)

            let received = try await server.messages().map { $0.rcptTos[0] }
            #expect(received.count == Set(received).count, "nobody got the digest twice")
            let sentRows = final.filter { $0["state"] as? String == "sent" }.compactMap { $0["email"] as? String }
            #expect(Set(sentRows).isSubset(of: Set(received)))
        }
    }

    @Test("with --resend-uncertain, duplicates are at most the messages that were being sent")
    func resendUncertain() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = try await prepare(directory, server: server)
            try await killMidRun(cli, server: server)
            let uncertain = Set(try await log(cli).filter { $0["state"] as? String == "sending" }.compactMap { $0["email"] as? String })
            try await server.setRules([])
            let rerun = try await cli.run("send", "--resend-uncertain")
            #expect(rerun.status == 0)
            let final = try await log(cli)
            #expect(final.count == 30 && final.allSatisfy { $0["state"] as? String == "sent" })
            let received = try await server.messages().map { $0.rcptTos[0] }
            let counts = Dictionary(received.map { ($0, 1) }, uniquingKeysWith: +)
            #expect(Set(counts.keys) == Set(final.compactMap { $0["email"] as? String }))
            let duplicated = Set(counts.filter { $0.value > 1 }.keys)
            #expect(duplicated.isSubset(of: uncertain))
            #expect(counts.values.allSatisfy { $0 <= 2 })
        }
    }
}
