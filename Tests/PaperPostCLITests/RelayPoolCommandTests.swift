import Foundation
import TestSupport
import Testing

/// `paperpost send` with a pool of two real SMTP servers (aiosmtpd), as an operator runs it.
@Suite("paperpost send through a relay pool", .serialized)
struct RelayPoolCommandTests {
    @Test("one relay of two refuses connections: everyone is mailed once through the other, stderr says so, and the log names the relay")
    func oneRelayDown() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        let down = "smtp://127.0.0.1:\(try refusingLocalPort())"
        try await withTemporaryDirectory { directory in
            let cli = try await SendCrashTests().prepare(
                directory, server: server, readers: 30, connections: 2, environment: ["PAPERPOST_SMTP_URL": "\(down), \(server.url)?connections=3"])
            let send = try await cli.run("send", "--force-unsafe")
            #expect(send.status == 0, "\(send.stderr)")
            #expect(send.stderr.contains("relay \(down) rested for 30 s: "), "\(send.stderr)")
            #expect(send.stdout.contains("30 sent, 0 deferred, 0 failed"), "\(send.stdout)")
            #expect(send.stdout.contains("relay \(down): 0 accepted, rested 1 time(s) (the last after: "), "\(send.stdout)")
            #expect(send.stdout.contains("relay \(server.url): 30 accepted\n"), "\(send.stdout)")

            #expect(Set(try await server.messages().map { $0.rcptTos[0] }).count == 30)
            #expect(try await server.messages().count == 30)
            let rows = try await SendCrashTests().log(cli)
            #expect(rows.count == 30 && rows.allSatisfy { $0["relay"] as? String == server.url && $0["state"] as? String == "sent" })
            let stats = try await cli.run("deliveries", "stats", "--by", "relay", "--format", "csv")
            #expect(stats.stdout == "relay,state,deliveries\r\n\(server.url),sent,30\r\n")
        }
    }

    @Test("SIGKILL while a pool sends, after messages were rerouted: at most one uncertain row per connection, and a rerun mails everyone")
    func killedPoolSend() async throws {
        let first = try await LocalSMTPServer()
        defer { first.stop() }
        let second = try await LocalSMTPServer()
        defer { second.stop() }
        try await withTemporaryDirectory { directory in
            let relays = "\(first.url)?connections=2 \(second.url)?connections=2"
            let cli = try await SendCrashTests().prepare(
                directory, server: first, readers: 120, connections: 2, environment: ["PAPERPOST_SMTP_URL": relays])
            // The first relay turns its first connections away (rerouted under their claims);
            // reader60's message is then held by whichever relay takes it: the moment to kill.
            try await first.setRules([
                SMTPRule(stage: .connect, action: .reply("421 4.3.2 Busy, try later"), times: 1),
                SMTPRule(rcpt: "reader60@example.com", stage: .data, action: .hold),
            ])
            try await second.setRules([SMTPRule(rcpt: "reader60@example.com", stage: .data, action: .hold)])
            let send = try Background(cli, ["send", "--force-unsafe"])
            while try await first.stats().held + second.stats().held < 1 {
                try #require(send.isRunning, "the send ended before reader60's message was held")
                try await Task.sleep(for: .milliseconds(20))
            }
            send.signal(SIGKILL)
            #expect(await send.wait().killed)
            #expect(try await first.stats().connectRefused == 1, "a message was turned away by the first relay and rerouted")

            let rows = try await SendCrashTests().log(cli)
            let sending = SendCrashTests().emails(rows, "sending")
            #expect(sending.contains("reader60@example.com"))
            #expect(sending.count <= 4, "at most one uncertain row per connection: \(sending.sorted())")
            let received = try await first.messages().map { $0.rcptTos[0] } + second.messages().map { $0.rcptTos[0] }
            let sent = SendCrashTests().emails(rows, "sent")
            #expect(sent.isSubset(of: Set(received)))
            #expect(Set(received).subtracting(sent).isSubset(of: sending), "received but neither sent nor uncertain")
            #expect(rows.filter { $0["state"] as? String == "sent" }.allSatisfy { [first.url, second.url].contains($0["relay"] as? String) })

            try await first.setRules([])
            try await second.setRules([])
            let rerun = try await cli.run("send", "--force-unsafe", "--resend-uncertain")
            #expect(rerun.status == 0, "\(rerun.stderr)")
            let final = try await SendCrashTests().log(cli)
            #expect(final.count == 120 && final.allSatisfy { $0["state"] as? String == "sent" })
            let all = try await first.messages().map { $0.rcptTos[0] } + second.messages().map { $0.rcptTos[0] }
            let counts = Dictionary(all.map { ($0, 1) }, uniquingKeysWith: +)
            #expect(counts.count == 120, "everyone")
            #expect(Set(counts.filter { $0.value > 1 }.keys).isSubset(of: sending), "the only copies are of uncertain messages")
        }
    }

    @Test("a relay file that cannot be used stops send before anything is queued, naming the file and line")
    func badRelayFile() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            try Data("\(server.url)\nsmtp://second.example.org?weight=many\n".utf8).write(to: directory.appendingPathComponent("relays.txt"))
            let cli = try await SendCrashTests().prepare(directory, server: server, readers: 3)
            var pooled = cli
            pooled.environment.merge(["PAPERPOST_SMTP_URL": "", "PAPERPOST_SMTP_RELAYS": "relays.txt"]) { $1 }
            let send = try await pooled.run("send", "--force-unsafe")
            #expect(send.status == 1)
            #expect(send.stderr.contains("relays.txt:2: weight: 'many' is not a number"), "\(send.stderr)")
            #expect(try await SendCrashTests().log(cli).isEmpty)
            #expect(try await server.messages().isEmpty)
        }
    }
}
