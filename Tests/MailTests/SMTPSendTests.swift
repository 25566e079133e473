import Foundation
import Mail
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// Sending to a real SMTP server (aiosmtpd) on 127.0.0.1.
@Suite("Sending over SMTP", .serialized)
struct SMTPSendTests {
    /// No test here is about timeouts, so they are long: a message held by a `.hold` rule, or
    /// one slowed by a busy machine, must never be deferred by one.
    func withSMTP(
        tls: LocalSMTPServer.TLSMode = .off, auth: (user: String, password: String)? = nil,
        readers: [(String, [String])] = [("a@example.com", ["cs.AI"]), ("b@example.com", ["cs.LG"]), ("c@example.com", ["cs.AI", "cs.LG"])],
        _ body: (MailWorld, LocalSMTPServer, any MailTransport) async throws -> Void
    ) async throws {
        let server = try await LocalSMTPServer(tls: tls, auth: auth)
        defer { server.stop() }
        try await MailWorld.with(readers: readers) { world in
            var world = world
            world.settings.delivery = DeliverySettings(
                smtpURL: server.url, smtpUser: auth?.user, smtpPassword: auth?.password, tls: tls == .off ? .off : .required,
                caFile: server.certificatePath, bounceAddress: try EmailAddress("bounces@example.org"),
                connectTimeout: .seconds(60), messageTimeout: .seconds(60), connections: 2,
                outboxDirectory: world.settings.delivery.outboxDirectory, retryBase: .milliseconds(1), maxAttempts: 3)
            let transport = try SMTPTransport(settings: world.settings.delivery, heloName: "digest.example.org")
            try await body(world, server, transport)
        }
    }

    @Test("everyone gets exactly one message with the right envelope and headers; a second send is a no-op")
    func everyoneOnce() async throws {
        try await withSMTP { world, server, transport in
            let report = try await world.send(transport: transport)
            #expect(report.progress.sent == 3)
            #expect(!report.isPartial)
            let messages = try await server.messages()
            #expect(messages.map { $0.rcptTos }.sorted { $0[0] < $1[0] } == [["a@example.com"], ["b@example.com"], ["c@example.com"]])
            #expect(messages.allSatisfy { $0.helo == "digest.example.org" })
            // Each envelope sender is a return path on the bounce address naming that reader's delivery.
            let key = try ServerSecret.load(world.settings)
            let base = try EmailAddress("bounces@example.org")
            let ids = Dictionary(uniqueKeysWithValues: try await world.subscribers.recipients().map { ($0.email, $0.subscriberID) })
            for message in messages {
                let path = ReturnPath.parse(message.mailFrom, base: base, key: key)
                #expect(path == ReturnPath(day: MailWorld.day, subscriberID: try #require(ids[message.rcptTos[0]])), "\(message.mailFrom)")
            }
            for message in messages {
                let parsed = try InspectedMessage.inspect(Array(message.data))
                #expect(parsed.defects.isEmpty)
                #expect(parsed.headers["To"]?.hasSuffix("<\(message.rcptTos[0])>") == true)
                #expect(parsed.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click")
            }
            #expect(Set(messages.map(\.session)).count <= 2, "two connections, reused across messages")
            let log = try await world.deliveries.deliveries(day: MailWorld.day)
            #expect(log.allSatisfy { $0.state == .sent && $0.lastCode == 250 && ($0.lastReply ?? "").hasPrefix("250 2.0.0 OK: queued as") })
            #expect(Set(log.compactMap(\.messageID)).count == 3)

            #expect(try await world.send(transport: transport).progress.sent == 0)
            #expect(try await server.messages().count == 3)
        }
    }

    @Test("STARTTLS is required and AUTH is used; a server without STARTTLS gets nothing")
    func tlsAndAuth() async throws {
        try await withSMTP(tls: .required, auth: ("digest", "s3cret")) { world, server, transport in
            #expect(try await world.send(transport: transport).progress.sent == 3)
            let messages = try await server.messages()
            #expect(messages.allSatisfy { $0.tls && $0.authUser == "digest" })
        }
        try await withSMTP(tls: .off) { world, server, _ in
            var settings = world.settings.delivery
            settings.tls = .required
            let report = try await world.send(transport: try SMTPTransport(settings: settings))
            #expect(report.progress.deferred == 3)
            #expect(try await server.messages().isEmpty)
        }
    }

    @Test("temporary failures are deferred and retried until they succeed")
    func temporaryThenSent() async throws {
        try await withSMTP { world, server, transport in
            try await server.setRules([
                SMTPRule(rcpt: "a@example.com", stage: .rcpt, action: .reply("451 4.3.0 Try again later"), times: 1),
                SMTPRule(rcpt: "b@example.com", stage: .data, action: .drop, times: 1),
            ])
            let first = try await world.send(transport: transport)
            #expect(first.progress.sent == 1)
            #expect(first.progress.deferred == 2)
            #expect(first.isPartial)
            let a = try #require(try await world.deliveries.deliveries(email: try EmailAddress("a@example.com")).first)
            #expect(a.state == .deferred && a.lastCode == 451 && a.lastReply == "451 4.3.0 Try again later" && a.nextAttemptAt != nil)

            let second = try await world.send(SendOptions(retryDeferred: true), transport: transport)
            #expect(second.progress.sent == 2)
            #expect(!second.isPartial)
            let received = try await server.messages().map { $0.rcptTos[0] }.sorted()
            #expect(received == ["a@example.com", "b@example.com", "c@example.com"])
            #expect(try await world.deliveries.deliveries(email: try EmailAddress("a@example.com")).first?.attempts == 2)
        }
    }

    @Test("a temporary failure that persists fails after the last attempt")
    func givesUp() async throws {
        try await withSMTP(readers: [("a@example.com", ["cs.AI"])]) { world, server, transport in
            try await server.setRules([SMTPRule(rcpt: "a@example.com", stage: .rcpt, action: .reply("452 4.2.2 Mailbox full"))])
            for _ in 0..<3 { _ = try await world.send(SendOptions(retryDeferred: true), transport: transport) }
            let row = try #require(try await world.deliveries.deliveries().first)
            #expect(row.state == .failed)
            #expect(row.attempts == 3)
            #expect(row.lastReply == "gave up after 3 attempts: 452 4.2.2 Mailbox full")
        }
    }

    @Test("permanent failures are logged with the server's text; an unknown user counts as a bounce")
    func permanent() async throws {
        try await withSMTP { world, server, transport in
            try await server.setRules([
                SMTPRule(rcpt: "a@example.com", stage: .rcpt, action: .reply("550 5.1.1 User unknown")),
                SMTPRule(rcpt: "b@example.com", stage: .data, action: .reply("552 5.3.4 Message too big")),
            ])
            let report = try await world.send(transport: transport)
            #expect(report.progress.failed == 2)
            #expect(report.progress.sent == 1)
            let log = Dictionary(uniqueKeysWithValues: try await world.deliveries.deliveries().map { ($0.email, $0) })
            #expect(log["a@example.com"]?.lastReply == "550 5.1.1 User unknown")
            #expect(log["a@example.com"]?.lastCode == 550)
            #expect(log["b@example.com"]?.lastReply == "552 5.3.4 Message too big")
            #expect(try await world.subscribers.get(try EmailAddress("a@example.com")).bounceCount == 1)
            #expect(try await world.subscribers.get(try EmailAddress("b@example.com")).bounceCount == 0)
        }
    }

    @Test("a server that refuses connections defers everyone, and nothing is lost")
    func refusedAtConnect() async throws {
        try await withSMTP { world, server, transport in
            try await server.setRules([SMTPRule(stage: .connect, action: .reply("421 4.3.2 Service not available"))])
            let report = try await world.send(transport: transport)
            #expect(report.progress.deferred == 3)
            try await server.setRules([])
            #expect(try await world.send(SendOptions(retryDeferred: true), transport: transport).progress.sent == 3)
        }
    }

    @Test("two sends at once share the digest: the second waits for the rows the first holds, and everyone gets one message")
    func concurrentSends() async throws {
        try await withSMTP { world, server, transport in
            try await server.setRules([SMTPRule(rcpt: "a@example.com", stage: .data, action: .hold)])
            let first = Task { try await world.send(transport: transport) }
            try await server.waitUntilHeld(1)
            let second = Task { try await world.send(transport: transport) }
            try await server.release()
            let (one, two) = (try await first.value, try await second.value)
            #expect(one.progress.sent + two.progress.sent == 3)
            let received = try await server.messages().map { $0.rcptTos[0] }
            #expect(received.sorted() == ["a@example.com", "b@example.com", "c@example.com"])
        }
    }
}
