import Foundation
import TestSupport
import Testing

/// `paperpost send` killed, paused, or out of disk, against a real SMTP server (aiosmtpd), and
/// the server's messages compared with the delivery log afterwards. The README's promise: a
/// stop leaves at most one row per connection in `sending`, and those are exactly the messages
/// whose fate is unknown; every message the server took is either logged `sent` or among them.
@Suite("paperpost send, killed and rerun", .serialized)
struct SendCrashTests {
    /// `readers` subscribers, a fetched and curated day, an SMTP server with no rules.
    func prepare(
        _ directory: URL, server: LocalSMTPServer, readers: Int = 30, connections: Int = 1, environment: [String: String] = [:]
    ) async throws -> CommandLineRunner {
        let cli = CommandLineRunner(directory: directory, environment: [
            "PAPERPOST_TEMPLATES": CurateCommandTests.templates, "PAPERPOST_SMTP_URL": server.url, "PAPERPOST_SMTP_TLS": "off",
            "PAPERPOST_SMTP_CONNECTIONS": "\(connections)", "PAPERPOST_SECRET": String(repeating: "s", count: 40),
            "PAPERPOST_MAIL_FROM": "PaperPost <digest@example.org>",
        ].merging(environment) { $1 })
        var csv = "email,categories\n"
        for index in 0..<readers { csv += "reader\(index)@example.com,cs.AI\n" }
        try Data(csv.utf8).write(to: directory.appendingPathComponent("readers.csv"))
        let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
        #expect(try await cli.run("subscribers", "import", "readers.csv").status == 0)
        #expect(try await cli.run("fetch", "--feed", feed.path).status == 0)
        #expect(try await cli.run("curate").status == 0)
        return cli
    }

    /// The installation `prepare` made, copied into a new PostgreSQL database with `paperpost
    /// migrate`: the returned runner's `PAPERPOST_DB` names the copy, and the SQLite file is
    /// gone, so nothing can read it behind the test's back.
    func movedToPostgres(_ cli: CommandLineRunner) async throws -> CommandLineRunner {
        let url = try await TestPostgres.newDatabase()
        let migrated = try await cli.run("migrate", "--to", url)
        try #require(migrated.status == 0, "\(migrated.stderr)")
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(at: cli.directory.appendingPathComponent("var/paperpost.sqlite" + suffix))
        }
        var onPostgres = cli
        onPostgres.environment["PAPERPOST_DB"] = url
        return onPostgres
    }

    func log(_ cli: CommandLineRunner) async throws -> [[String: Any]] {
        let result = try await cli.run("deliveries", "--format", "json")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
    }

    func emails(_ rows: [[String: Any]], _ state: String) -> Set<String> {
        Set(rows.filter { $0["state"] as? String == state }.compactMap { $0["email"] as? String })
    }

    /// The promise after any stop: at most `connections` rows in `sending`, every row logged
    /// `sent` is at the server, and every message the server took whose row is not `sent` is
    /// one of the `sending` rows. Returns the `sending` rows (the uncertain ones).
    @discardableResult
    func checkAfterStop(_ cli: CommandLineRunner, server: LocalSMTPServer, connections: Int, received before: [String] = []) async throws -> Set<String> {
        let rows = try await log(cli)
        let sending = emails(rows, "sending")
        #expect(sending.count <= connections, "rows left 'sending': \(sending.sorted())")
        let received = try await server.messages().map { $0.rcptTos[0] }
        let receivedNow = Set(Self.subtracting(before, from: received))
        let sent = emails(rows, "sent")
        #expect(sent.isSubset(of: Set(received)), "logged sent but never received: \(sent.subtracting(received).sorted())")
        let unlogged = receivedNow.subtracting(sent)
        #expect(unlogged.isSubset(of: sending), "received but neither sent nor uncertain: \(unlogged.subtracting(sending).sorted())")
        return sending
    }

    /// `all` minus one occurrence of each element of `earlier` (the messages of this run alone).
    static func subtracting(_ earlier: [String], from all: [String]) -> [String] {
        var remaining = Dictionary(earlier.map { ($0, 1) }, uniquingKeysWith: +)
        return all.filter { address in
            if let count = remaining[address], count > 0 {
                remaining[address] = count - 1
                return false
            }
            return true
        }
    }

    /// Starts `paperpost send` with the runner's environment, its output kept in files.
    func start(_ cli: CommandLineRunner, _ arguments: [String] = []) throws -> Background {
        try Background(cli, ["send", "--force-unsafe"] + arguments)
    }

    /// Kills a send while the server holds reader5's message: the state the test waits for.
    func killWhileHeld(_ cli: CommandLineRunner, server: LocalSMTPServer) async throws {
        try await server.setRules([SMTPRule(rcpt: "reader5@example.com", stage: .data, action: .hold)])
        let send = try start(cli)
        try await server.waitUntilHeld(1)
        send.signal(SIGKILL)
        let ended = await send.wait()
        #expect(ended.killed)
        try await server.setRules([])
    }

    @Test("after SIGKILL the uncertain row is exactly the message on the wire; a rerun marks it failed and sends nobody twice")
    func killedAndRerun() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = try await prepare(directory, server: server)
            try await killWhileHeld(cli, server: server)
            let uncertain = try await checkAfterStop(cli, server: server, connections: 1)
            // One connection: readers 0-4 were logged sent before reader5's message could end.
            #expect(uncertain == ["reader5@example.com"])
            #expect(emails(try await log(cli), "sent") == Set((0..<5).map { "reader\($0)@example.com" }))

            let rerun = try await cli.run("send", "--force-unsafe")
            #expect(rerun.status == 3)
            #expect(rerun.stderr.contains("1 message(s) were being sent when a previous run stopped; marked failed (uncertain after crash)"))
            #expect(rerun.stdout.contains("24 sent, 0 deferred, 1 failed (1 uncertain after a crash)"), "\(rerun.stdout)")
            let final = try await log(cli)
            #expect(final.count == 30)
            #expect(emails(final, "failed") == uncertain)
            #expect(emails(final, "sent").count == 29)

            let received = try await server.messages().map { $0.rcptTos[0] }
            #expect(received.count == 30 && Set(received).count == 30, "everyone once, reader5 included")
        }
    }

    @Test("with --resend-uncertain the one duplicate is the uncertain message, with the same Message-ID")
    func resendUncertain() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = try await prepare(directory, server: server)
            try await killWhileHeld(cli, server: server)
            let uncertain = try await checkAfterStop(cli, server: server, connections: 1)
            let rerun = try await cli.run("send", "--force-unsafe", "--resend-uncertain")
            #expect(rerun.status == 0)
            let final = try await log(cli)
            #expect(final.count == 30 && final.allSatisfy { $0["state"] as? String == "sent" })
            let messages = try await server.messages()
            let counts = Dictionary(messages.map { ($0.rcptTos[0], 1) }, uniquingKeysWith: +)
            #expect(Set(counts.keys).count == 30)
            #expect(Set(counts.filter { $0.value > 1 }.keys) == uncertain)
            let copies = try messages.filter { uncertain.contains($0.rcptTos[0]) }.map { try InspectedMessage.inspect(Array($0.data)).headers["Message-ID"] }
            #expect(copies.count == 2 && copies[0] != nil && copies[0] == copies[1])
        }
    }

    @Test("SIGKILL at random moments, again and again: never more uncertain rows than connections, nobody lost")
    func randomKills() async throws {
        let connections = 4
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = try await prepare(directory, server: server, readers: 400, connections: connections)
            var generator = SystemRandomNumberGenerator()
            var uncertainEver = Set<String>()
            var kills = 0
            for _ in 0..<10 {
                let before = try await server.messages().map { $0.rcptTos[0] }
                // The moment is a random reader not yet mailed: the server holds their message,
                // so the kill lands while the send is surely under way (with the other
                // connections mid-transfer), however fast or slow the machine is.
                let received = Set(before)
                guard let held = (0..<400).map({ "reader\($0)@example.com" }).filter({ !received.contains($0) })
                    .randomElement(using: &generator)
                else { break }
                try await server.setRules([SMTPRule(rcpt: held, stage: .data, action: .hold)])
                let send = try start(cli, ["--resend-uncertain"])
                try await server.waitUntilHeld(1)
                send.signal(SIGKILL)
                let ended = await send.wait()
                try await server.setRules([])
                try await server.release()
                if ended.killed { kills += 1 }
                uncertainEver.formUnion(try await checkAfterStop(cli, server: server, connections: connections, received: before))
                if !ended.killed {
                    #expect(ended.status == 0, "\(ended.stderr)")
                    break
                }
            }
            #expect(kills >= 1)
            let finish = try await cli.run("send", "--force-unsafe", "--resend-uncertain")
            #expect(finish.status == 0, "\(finish.stderr)")
            let final = try await log(cli)
            #expect(final.count == 400 && final.allSatisfy { $0["state"] as? String == "sent" }, "nobody lost")
            let counts = Dictionary(try await server.messages().map { ($0.rcptTos[0], 1) }, uniquingKeysWith: +)
            #expect(counts.count == 400)
            let duplicated = Set(counts.filter { $0.value > 1 }.keys)
            #expect(duplicated.isSubset(of: uncertainEver), "duplicates that were never uncertain: \(duplicated.subtracting(uncertainEver).sorted())")
            #expect(duplicated.count <= kills * connections)
        }
    }

    @Test("a send paused past its lease is taken over; resumed, it stops at once and nobody gets two")
    func pausedSenderIsFenced() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let cli = try await prepare(directory, server: server, connections: 2, environment: ["PAPERPOST_SEND_LEASE": "2"])
            // Both connections hold a message, so the sender writes nothing but lease renewals.
            try await server.setRules([SMTPRule(stage: .data, action: .hold)])
            let paused = try start(cli)
            try await server.waitUntilHeld(2)
            try await pauseOutsideTransaction(paused, database: directory.appendingPathComponent("var/paperpost.sqlite"))
            try await server.setRules([])

            // A second send finds every row held by the paused one, waits for its lease to run
            // out, then takes it over: the two held messages are uncertain, the rest its own.
            let takeover = try await cli.run("send", "--force-unsafe")
            #expect(takeover.status == 3, "\(takeover.stderr)")
            #expect(takeover.stderr.contains("2 message(s) were being sent when a previous run stopped"), "\(takeover.stderr)")

            try await server.release()
            paused.signal(SIGCONT)
            let resumed = await paused.wait()
            #expect(resumed.status == 2)
            #expect(resumed.stderr.contains("lost its lease on 2025-08-20's digest"), "\(resumed.stderr)")

            let received = try await server.messages().map { $0.rcptTos[0] }
            #expect(received.count == Set(received).count, "nobody got the digest twice: \(received.sorted())")
            #expect(Set(received).count == 30)
            let final = try await log(cli)
            #expect(emails(final, "sending").isEmpty)
            #expect(emails(final, "failed").count == 2, "the two held messages, uncertain to the send that took over")
            #expect(emails(final, "sent").count == 28)
        }
    }

    /// SIGSTOPs `process` at a moment it holds no SQLite write lock (a process stopped inside a
    /// transaction would block every other writer, a different fault): stop, probe the lock
    /// from another connection, and if it is held, let the process run on and try again.
    func pauseOutsideTransaction(_ process: Background, database: URL) async throws {
        let probe = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None); c.execute('BEGIN IMMEDIATE'); c.execute('ROLLBACK')"
        for _ in 0..<100 {
            process.signal(SIGSTOP)
            if await onOwnThread({ TemporaryMount.run("/usr/bin/env", [ScriptProcess.python, "-c", probe, database.path]) }) { return }
            process.signal(SIGCONT)
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...50)))
        }
        Issue.record("the sender held the database's write lock at every attempt to pause it")
    }

    @Test(
        "a database disk that fills during a send stops it with at most one uncertain row per connection",
        .enabled(if: TemporaryMount.available, "needs root and tmpfs mounts to fill a disk"))
    func diskFull() async throws {
        let connections = 2
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let mount = try TemporaryMount(at: directory.appendingPathComponent("db"), megabytes: 8)
            defer { mount.unmount() }
            let cli = try await prepare(
                directory, server: server, readers: 300, connections: connections,
                environment: ["PAPERPOST_DB": mount.path + "/paperpost.sqlite"])
            // Every row queued, one sent; the database is closed and its WAL folded in.
            #expect(try await cli.run("send", "--force-unsafe", "--limit", "1").status == 0)
            let filler = try mount.fill(leavingBytes: 96 * 1024)
            let before = try await server.messages().map { $0.rcptTos[0] }
            let full = try await cli.run("send", "--force-unsafe")
            #expect(full.status == 2, "\(full.stdout)\(full.stderr)")
            #expect(full.stderr.contains("full"), "\(full.stderr)")
            let uncertain = try await checkAfterStop(cli, server: server, connections: connections, received: before)
            #expect(try await server.messages().count > before.count, "the disk filled before any message went out; give the test more room")

            try FileManager.default.removeItem(at: filler)
            let rerun = try await cli.run("send", "--force-unsafe", "--resend-uncertain")
            #expect(rerun.status == 0, "\(rerun.stderr)")
            let final = try await log(cli)
            #expect(final.count == 300 && final.allSatisfy { $0["state"] as? String == "sent" }, "nobody lost")
            let counts = Dictionary(try await server.messages().map { ($0.rcptTos[0], 1) }, uniquingKeysWith: +)
            #expect(Set(counts.filter { $0.value > 1 }.keys).isSubset(of: uncertain))
        }
    }
}

/// A `paperpost` process running in the background, its stderr in a file.
/// `@unchecked Sendable`: `Process` is thread-safe for what is used here (signals, status, waiting).
final class Background: @unchecked Sendable {
    let process: Process
    let output: URL

    init(_ cli: CommandLineRunner, _ arguments: [String]) throws {
        process = Process()
        process.executableURL = CommandLineRunner.executable
        process.arguments = arguments
        process.currentDirectoryURL = cli.directory
        process.environment = cli.environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]) { $1 }
        output = cli.directory.appendingPathComponent("background-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: output)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to end, on a thread of its own (never blocking the cooperative pool).
    func wait() async -> (status: Int32, killed: Bool, stderr: String) {
        let process = self.process
        await onOwnThread { process.waitUntilExit() }
        let stderr = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal, stderr)
    }
}

/// A small tmpfs for a test that needs a disk to fill up (root only).
struct TemporaryMount {
    let path: String

    /// Whether this process may mount a tmpfs (tried once, on a scratch directory).
    static let available: Bool = {
        guard getuid() == 0, let scratch = try? TemporaryDirectory.make(prefix: "mount-probe") else { return false }
        defer { try? FileManager.default.removeItem(at: scratch) }
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", scratch.path]) else { return false }
        return run("/bin/umount", [scratch.path])
    }()

    init(at url: URL, megabytes: Int) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", url.path]) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path])
        }
        path = url.path
    }

    /// Writes a file that leaves about `bytes` free, and returns it.
    func fill(leavingBytes bytes: Int) throws -> URL {
        let free = try FileManager.default.attributesOfFileSystem(forPath: path)[.systemFreeSize] as? Int ?? 0
        let filler = URL(fileURLWithPath: path).appendingPathComponent("filler")
        try Data(count: max(0, free - bytes)).write(to: filler)
        return filler
    }

    func unmount() {
        _ = Self.run("/bin/umount", ["-l", path])
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
