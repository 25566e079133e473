import Foundation
import TestSupport
import Testing

/// Two `paperpost send` processes sharing one digest, as two hosts would, against a real SMTP
/// server (aiosmtpd): on the SQLite store (processes on one host) and on PostgreSQL (where
/// they could be on two).
@Suite("several senders of one digest", .serialized)
struct SeveralSendersTests {
    enum Store: String, CaseIterable {
        case sqlite, postgres
    }

    @Test(
        "two sends split the list; one is SIGKILLed midway and the other takes its rows over and finishes: everyone mailed, copies only of uncertain messages",
        arguments: Store.allCases)
    func twoSendersOneKilled(store: Store) async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let crash = SendCrashTests()
            let readers = 600
            var cli = try await crash.prepare(directory, server: server, readers: readers, connections: 2, environment: ["PAPERPOST_SEND_LEASE": "5"])
            if store == .postgres { cli = try await crash.movedToPostgres(cli) }
            // The first send mails the start of the list until both its connections hold a
            // message the server keeps unanswered: it is then stuck, alive, with rows reserved
            // and two `sending`. Readers 40 to 63 are held, three batches of eight, and one
            // connection holds at most two batches (the one on the wire and the next).
            try await server.setRules((40..<64).map { SMTPRule(rcpt: "reader\($0)@example.com", stage: .data, action: .hold) })
            let first = try Background(cli, ["send", "--force-unsafe", "--resend-uncertain"])
            try await server.waitUntilHeld(2)
            let second = try Background(cli, ["send", "--force-unsafe", "--resend-uncertain"])
            let (a, b) = ("pid \(first.process.processIdentifier) ", "pid \(second.process.processIdentifier) ")
            func sent(by sender: String, in rows: [[String: Any]]) -> Int {
                rows.filter { $0["state"] as? String == "sent" && ($0["sender"] as? String)?.contains(sender) == true }.count
            }

            // The second takes rows the first does not hold; once it has sent some, the first dies.
            var rows = try await crash.log(cli)
            while sent(by: b, in: rows) < 20 {
                try #require(second.isRunning, "the second send ended before sending twenty messages")
                try await Task.sleep(for: .milliseconds(50))
                rows = try await crash.log(cli)
            }
            #expect(sent(by: a, in: rows) >= 20, "the first send had mailed the start of the list")
            #expect(first.isRunning)
            first.signal(SIGKILL)
            #expect(await first.wait().killed)
            try await server.setRules([])
            try await server.release()

            let survivor = await second.wait()
            #expect(survivor.status == 0, "\(survivor.stderr)")
            // The survivor names the killed send's uncertain rows, which it sent again.
            var uncertain: Set<String> = []
            if let line = survivor.stderr.split(separator: "\n").first(where: { $0.contains("were being sent when a previous run stopped; sent again: ") }) {
                uncertain = Set(line.components(separatedBy: "sent again: ")[1].components(separatedBy: ", "))
            }
            #expect(uncertain.count <= 2, "at most one uncertain row per connection of the killed send: \(uncertain.sorted())")
            let final = try await crash.log(cli)
            #expect(final.count == readers && final.allSatisfy { $0["state"] as? String == "sent" }, "nobody lost")
            #expect(sent(by: a, in: final) >= 20 && sent(by: b, in: final) >= 20, "the work was split")
            #expect(sent(by: a, in: final) + sent(by: b, in: final) == readers)

            let counts = Dictionary(try await server.messages().map { ($0.rcptTos[0], 1) }, uniquingKeysWith: +)
            #expect(counts.count == readers, "everyone")
            let copies = Set(counts.filter { $0.value > 1 }.keys)
            #expect(copies.isSubset(of: uncertain), "copies that were never uncertain: \(copies.subtracting(uncertain).sorted())")
            #expect(counts.values.allSatisfy { $0 <= 2 })
        }
    }
}
