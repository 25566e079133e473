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
