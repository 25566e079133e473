import Foundation
import Mail
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// What a send promises when things go wrong around it: a reader who leaves mid-send, a lease
/// taken over, a relay out of step or gone silent. Against aiosmtpd on 127.0.0.1.
@Suite("Sending under faults", .serialized)
struct SendFaultTests {
    static let readers = (0..<6).map { ("reader\($0)@example.com", ["cs.AI"]) }

    func withSMTP(
        connections: Int = 1, messageTimeout: Duration = .seconds(60), breaker: Int = 5,
        _ body: (MailWorld, LocalSMTPServer, any MailTransport) async throws -> Void
    ) async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await MailWorld.with(readers: Self.readers) { world in
            var world = world
            world.settings.delivery = DeliverySettings(
                smtpURL: server.url, tls: .off, connectTimeout: .seconds(60), messageTimeout: messageTimeout, connections: connections,
                outboxDirectory: world.settings.delivery.outboxDirectory, retryBase: .milliseconds(1), maxAttempts: 3,
                breakerThreshold: breaker)
            let transport = try SMTPTransport(settings: world.settings.delivery, heloName: "digest.example.org")
            try await body(world, server, transport)
        }
    }

    @Test("a reader who unsubscribes while the send runs gets nothing, and the log says why")
    func unsubscribedDuringSend() async throws {
        try await withSMTP { world, server, transport in
            try await server.setRules([SMTPRule(rcpt: "reader0@example.com", stage: .data, action: .hold)])
            let send = Task { try await world.send(transport: transport) }
            // The one lane waits on reader0; reader3 is read ahead but not yet claimed.
            try await server.waitUntilHeld(1)
            #expect(try await world.subscribers.unsubscribe(try EmailAddress("reader3@example.com"), source: .link))
            try await server.release()
            let report = try await send.value
            #expect(report.progress.sent == 5)
            #expect(report.progress.skipped == 1)
            let received = try await server.messages().map { $0.rcptTos[0] }
            #expect(!received.contains("reader3@example.com"))
            #expect(received.count == 5)
            let row = try #require(try await world.deliveries.deliveries(email: try EmailAddress("reader3@example.com")).first)
            #expect(row.state == .skipped)
            #expect(row.lastReply == "unsubscribed during the send")
        }
    }

    @Test("a sender whose lease was taken over stops at once and writes nothing more")
    func fencedLease() async throws {
        try await withSMTP { world, server, transport in
            try await server.setRules([SMTPRule(rcpt: "reader0@example.com", stage: .data, action: .hold)])
            let send = Task { try await world.send(transport: transport) }
            try await server.waitUntilHeld(1)
            // Another sender takes this one over, as after it was paused past its lease.
            let taken = try await world.deliveries.takeOver(day: MailWorld.day, owner: "other host pid 1", isAbandoned: { _ in true }, resend: false)
            #expect(taken.uncertain.map(\.email) == ["reader0@example.com"], "the message on the wire is uncertain to the taker")
            #expect(taken.freed == 5, "the rest of its read-ahead goes back to everyone")
            try await server.release()
            await #expect {
                try await send.value
            } throws: { error in
                "\(error)".contains("lost its lease on 2026-02-20's digest")
            }
            // Only the message already on the wire went out; the taker marked it uncertain.
            #expect(try await server.messages().map { $0.rcptTos[0] } == ["reader0@example.com"])
            let log = try await world.deliveries.deliveries(day: MailWorld.day)
            #expect(log.filter { $0.state == .failed }.map(\.lastReply) == ["uncertain after crash"])
            #expect(log.filter { $0.state == .queued }.count == 5)
        }
    }

    @Test("a retried message keeps its Message-ID, so a receiver can drop a duplicate")
    func messageIDPerRow() async throws {
        try await withSMTP { world, server, transport in
            // Refused for now at the end of DATA: sent again on the retry. (Copies that both arrive,
            // after a crash and --resend-uncertain, are compared in SendCrashTests.)
            try await server.setRules([SMTPRule(rcpt: "reader1@example.com", stage: .data, action: .reply("451 4.3.0 Try again"), times: 1)])
            _ = try await world.send(transport: transport)
            try await server.setRules([])
            _ = try await world.send(SendOptions(retryDeferred: true), transport: transport)
            let row = try #require(try await world.deliveries.deliveries(email: try EmailAddress("reader1@example.com")).first)
            #expect(row.state == .sent && row.attempts == 2)
            let message = try #require(try await server.messages().first { $0.rcptTos == ["reader1@example.com"] })
            let parsed = try InspectedMessage.inspect(Array(message.data))
            #expect(parsed.headers["Message-ID"] == row.messageID)
            #expect(row.messageID?.hasPrefix("<2026-02-20.2.") == true)
            // Another reader's differs.
            let other = try #require(try await world.deliveries.deliveries(email: try EmailAddress("reader0@example.com")).first)
            #expect(other.messageID != row.messageID)
        }
    }

    @Test("503 bad sequence defers the reader (not their fault) and the next message goes on a new connection")
    func badSequence() async throws {
        try await withSMTP { world, server, transport in
            try await server.setRules([SMTPRule(rcpt: "reader2@example.com", stage: .rcpt, action: .reply("503 5.5.1 Bad sequence of commands"), times: 1)])
            let report = try await world.send(transport: transport)
            #expect(report.progress.sent == 5)
            #expect(report.progress.deferred == 1)
            #expect(report.progress.failed == 0)
            let row = try #require(try await world.deliveries.deliveries(email: try EmailAddress("reader2@example.com")).first)
            #expect(row.state == .deferred && row.lastCode == 503)
            let messages = try await server.messages()
            let before = try #require(messages.first { $0.rcptTos == ["reader1@example.com"] })
            let after = try #require(messages.first { $0.rcptTos == ["reader3@example.com"] })
            #expect(before.session != after.session)
            #expect(try await world.subscribers.get(try EmailAddress("reader2@example.com")).status == .active)
        }
    }

    @Test("a relay that never answers opens the circuit breaker: the send stops and defers the rest")
    func blackHole() async throws {
        try await withSMTP(connections: 2, messageTimeout: .seconds(1), breaker: 3) { world, server, transport in
            try await server.setRules([SMTPRule(stage: .connect, action: .stall(600))])
            let report = try await world.send(transport: transport)
            let reason = try #require(report.stoppedEarly)
            #expect(reason.hasPrefix("3 connection failures or timeouts in a row (the last: "))
            #expect(reason.contains("timed out") || reason.contains("too slow"), "\(reason)")
            #expect(report.isPartial)
            #expect(report.progress.sent == 0)
            let log = try await world.deliveries.deliveries(day: MailWorld.day)
            #expect(log.count == 6)
            #expect(log.allSatisfy { $0.state == .deferred && $0.nextAttemptAt != nil })
            #expect(log.filter { $0.attempts == 0 }.allSatisfy { $0.lastReply?.hasPrefix("not attempted: 3 connection failures") == true })
            #expect(log.filter { $0.attempts > 0 }.count <= 4, "at most a round per connection after the third failure")
            #expect(try await server.messages().isEmpty)
        }
    }
}
