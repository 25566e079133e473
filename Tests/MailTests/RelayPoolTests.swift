import Foundation
import Mail
import PaperPostCore
import PaperPostStore
import Synchronization
import TestSupport
import Testing

/// Sending through several real SMTP servers (aiosmtpd) on 127.0.0.1 as one pool.
@Suite("Relay pools", .serialized)
struct RelayPoolTests {
    static func readers(_ count: Int) -> [(String, [String])] {
        (0..<count).map { ("reader\($0)@example.com", ["cs.AI"]) }
    }

    /// What the pool told the operator.
    final class Notices: Sendable {
        private let said = Mutex<[String]>([])
        func append(_ line: String) { said.withLock { $0.append(line) } }
        var lines: [String] { said.withLock { $0 } }
    }

    /// A world of `readers` whose delivery settings list `relays`, and the pool made of them,
    /// with the notices it gave.
    func withPool(
        readers count: Int, relays: [Relay], connections: Int = 2,
        _ body: (MailWorld, RelayPool, Notices) async throws -> Void
    ) async throws {
        try await MailWorld.with(readers: Self.readers(count)) { world in
            var world = world
            world.settings.delivery = DeliverySettings(
                tls: .off, bounceAddress: try EmailAddress("bounces@example.org"), connectTimeout: .seconds(60), messageTimeout: .seconds(60),
                connections: connections, outboxDirectory: world.settings.delivery.outboxDirectory, retryBase: .milliseconds(1), maxAttempts: 3)
            world.settings.delivery.relays = relays
            let notices = Notices()
            let pool = try RelayPool(settings: world.settings.delivery, heloName: "digest.example.org") { notices.append($0) }
            try await body(world, pool, notices)
        }
    }

    @Test("two relays where one refuses connections: everything goes through the other, and the log says so")
    func oneRelayRefuses() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        let down = try Relay.parse("smtp://127.0.0.1:\(try refusingLocalPort())", origin: "test")
        let up = try Relay.parse(server.url, origin: "test")
        try await withPool(readers: 20, relays: [down, up]) { world, pool, notices in
            let report = try await world.send(transport: pool)
            #expect(report.progress.sent == 20)
            #expect(!report.isPartial)
            #expect(report.stoppedEarly == nil)

            let received = try await server.messages()
            #expect(received.count == 20)
            #expect(Set(received.flatMap(\.rcptTos)).count == 20, "every reader once")
            let log = try await world.deliveries.deliveries(day: MailWorld.day)
            #expect(log.count == 20)
            #expect(log.allSatisfy { $0.state == .sent && $0.relay == up.name && $0.attempts == 1 }, "\(log.map { ($0.state, $0.relay, $0.attempts) })")
            #expect(try await world.deliveries.statsByRelay(day: MailWorld.day).map { "\($0.0 ?? "-") \($0.1) \($0.2)" } == ["\(up.name) sent 20"])

            let relays = pool.report
            #expect(relays.map(\.name) == [down.name, up.name])
            #expect(relays[0].accepted == 0 && relays[0].rests == 1)
            #expect(relays[0].lastFailure?.contains("onnect") == true, "\(relays[0].lastFailure ?? "")")
            #expect(relays[1].accepted == 20 && relays[1].rests == 0)
            let said = notices.lines
            #expect(said.count == 1, "one notice, however many lanes found the relay down: \(said)")
            #expect(said.first?.hasPrefix("relay \(down.name) rested for 30 s: ") == true, "\(said)")
            #expect(said.first?.hasSuffix("its messages go to the other relays") == true)
        }
    }

    @Test("a relay that answers 421 is rested and the other takes its messages; with every relay down, the send defers and stops")
    func relayAnswers421() async throws {
        let busy = try await LocalSMTPServer()
        defer { busy.stop() }
        let other = try await LocalSMTPServer()
        defer { other.stop() }
        try await busy.setRules([SMTPRule(stage: .connect, action: .reply("421 4.3.2 Too many connections, try later"))])
        try await withPool(readers: 12, relays: [try Relay.parse(busy.url, origin: "t"), try Relay.parse(other.url, origin: "t")]) { world, pool, notices in
            let report = try await world.send(transport: pool)
            #expect(report.progress.sent == 12)
            #expect(try await busy.messages().isEmpty)
            #expect(try await other.messages().count == 12)
            #expect(pool.report[0].lastFailure?.contains("421 4.3.2 Too many connections") == true, "\(pool.report)")
            #expect(notices.lines.count == 1)
        }

        // Both relays refuse: nothing is lost, every message is deferred and the breaker stops the send.
        try await other.setRules([SMTPRule(stage: .connect, action: .reply("421 4.3.2 Down for maintenance"))])
        try await withPool(readers: 12, relays: [try Relay.parse(busy.url, origin: "t"), try Relay.parse(other.url, origin: "t")]) { world, pool, _ in
            let report = try await world.send(transport: pool)
            #expect(report.progress.sent == 0)
            #expect(report.progress.deferred + report.deferredUnsent == 12)
            #expect(report.stoppedEarly != nil)
            let log = try await world.deliveries.deliveries(day: MailWorld.day)
            #expect(log.allSatisfy { $0.state == .deferred })
            let tried = log.filter { $0.attempts > 0 }
            #expect(!tried.isEmpty && tried.allSatisfy { ($0.lastReply ?? "").hasPrefix("no relay took it (") }, "\(tried.map(\.lastReply))")
        }
    }

    @Test("weights share the list between healthy relays: 3 to 1 gives three quarters to the first")
    func weightsShareTheList() async throws {
        let heavy = try await LocalSMTPServer()
        defer { heavy.stop() }
        let light = try await LocalSMTPServer()
        defer { light.stop() }
        let relays = [
            try Relay.parse("\(heavy.url)?weight=3&connections=1", origin: "t"), try Relay.parse("\(light.url)?weight=1&connections=1", origin: "t"),
        ]
        try await withPool(readers: 80, relays: relays) { world, pool, _ in
            #expect(try await world.send(transport: pool).progress.sent == 80)
            let (first, second) = (try await heavy.messages().count, try await light.messages().count)
            #expect(first + second == 80)
            // Stride scheduling keeps the relays' passes (messages / weight) within one batch
            // (eight messages) of each other, whatever the timing: |first / 3 - second| <= 8, so
            // first is 54...66. Equal shares would give about 40.
            #expect((54...66).contains(first), "heavy \(first), light \(second)")
            #expect(pool.report.map(\.accepted) == [first, second])
            let byRelay = try await world.deliveries.statsByRelay(day: MailWorld.day)
            #expect(Dictionary(uniqueKeysWithValues: byRelay.map { ($0.0, $0.2) }) == [relays[0].name: first, relays[1].name: second])
        }
    }

    @Test("a relay's rate cap spaces its messages: eleven at 20 a second take at least half a second, over two connections")
    func rateCap() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withPool(readers: 11, relays: [try Relay.parse("\(server.url)?rate=20&connections=2", origin: "t")]) { world, pool, _ in
            let started = ContinuousClock.now
            #expect(try await world.send(transport: pool).progress.sent == 11)
            let elapsed = ContinuousClock.now - started
            // The eleventh message's slot is ten intervals after the first, which comes after the
            // start: a lower bound only, which no slow machine can break.
            #expect(elapsed >= .milliseconds(500), "\(elapsed)")
            let received = try await server.messages()
            #expect(received.count == 11)
        }
    }

    @Test("a relay at its rate cap is not owed its share: the other relay sends the rest instead of waiting for it")
    func rateCappedRelayDoesNotHoldThePool() async throws {
        let fast = try await LocalSMTPServer()
        defer { fast.stop() }
        let slow = try await LocalSMTPServer()
        defer { slow.stop() }
        // Equal weights; the slow relay takes one message every two seconds. Held to equal
        // shares, the send would take 40 s and the slow relay would carry 20 messages.
        let relays = [
            try Relay.parse("\(fast.url)?connections=1&weight=1", origin: "t"), try Relay.parse("\(slow.url)?connections=1&weight=1&rate=0.5", origin: "t"),
        ]
        try await withPool(readers: 40, relays: relays) { world, pool, _ in
            #expect(try await world.send(transport: pool).progress.sent == 40)
            let viaSlow = try await slow.messages().count
            #expect(viaSlow <= 5, "the capped relay sent \(viaSlow), one every two seconds while the other sent the rest")
            #expect(pool.report.map(\.accepted).reduce(0, +) == 40)
        }
    }

    @Test("a relay's connections cap its parallel sessions; a single message (a notice) goes through the pool too")
    func connectionsPerRelay() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        let other = try await LocalSMTPServer()
        defer { other.stop() }
        let relays = [try Relay.parse("\(server.url)?connections=3", origin: "t"), try Relay.parse("\(other.url)?connections=1", origin: "t")]
        try await withPool(readers: 40, relays: relays, connections: 8) { world, pool, _ in
            #expect(try await world.send(transport: pool).progress.sent == 40)
            #expect(Set(try await server.messages().map(\.session)).count <= 3)
            #expect(Set(try await other.messages().map(\.session)).count == 1)
            let lanes = try pool.makeLanes(connections: 8)
            #expect(lanes.count == 4)

            let notice = OutgoingMessage(
                day: MailWorld.day, envelopeSender: "digest@example.org", recipient: "someone@example.com", messageID: "<n@example.org>",
                bytes: Array("Subject: hello\r\n\r\nA notice.\r\n".utf8), kind: "confirm")
            let results = await (try pool.makeLane()).send([notice])
            guard case .accepted = results.first else {
                Issue.record("the notice was not accepted: \(results)")
                return
            }
            #expect(try await server.messages().contains { $0.rcptTos == ["someone@example.com"] })
        }
    }
}
