import Foundation
import Mail
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

@Suite("Sending through the outbox, and the delivery log")
struct SendJobTests {
    @Test("every active subscriber gets one .eml and one .html; a second send is a no-op")
    func outboxOnce() async throws {
        try await MailWorld.with { world in
            let first = try await world.send()
            #expect(first.progress.sent == 3)
            #expect(!first.isPartial)
            let folder = URL(fileURLWithPath: world.settings.delivery.outboxDirectory).appendingPathComponent("2026-02-20")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == [
                "a@example.com.eml", "a@example.com.html", "b@example.com.eml", "b@example.com.html",
                "c@example.com.eml", "c@example.com.html",
            ])
            let eml = try String(contentsOf: folder.appendingPathComponent("a@example.com.eml"), encoding: .utf8)
            #expect(eml.contains("To: Reader a <a@example.com>\r\n"))

            let second = try await world.send()
            #expect(second.progress.sent == 0)
            #expect(second.enqueued == 0)
            let log = try await world.deliveries.deliveries(day: MailWorld.day)
            #expect(log.map(\.state) == [.sent, .sent, .sent])
            #expect(log.allSatisfy { $0.attempts == 1 && $0.messageID != nil && ($0.bytes ?? 0) > 1000 && $0.sentAt != nil })
        }
    }

    @Test("a weekly reader gets nothing on other days and one edition on their day: the best of the week's stored digests, with a week header")
    func weekly() async throws {
        let wednesday = Day(year: 2026, month: 2, day: 18)!
        let friday = MailWorld.day
        try await MailWorld.with(readers: [("a@example.com", ["cs.AI"])], days: [wednesday, friday]) { world in
            let weekly = try await world.subscribers.add(
                NewSubscriber(
                    email: try EmailAddress("w@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .active,
                    schedule: try Schedule(parsing: "weekly:fri")),
                source: .cli)
            #expect(weekly.schedule == .weekly(weekday: 6))

            let midweek = try await world.send(SendOptions(day: wednesday))
            #expect(midweek.progress.sent == 1)
            #expect(try await world.deliveries.deliveries(day: wednesday).map(\.email) == ["a@example.com"], "no row at all for the weekly reader")

            let llmCallsBefore = try await CurationStore(database: world.database).calls(on: friday).count
            let onTheDay = try await world.send(SendOptions(day: friday))
            #expect(onTheDay.progress.sent == 2)
            let rows = try await world.deliveries.deliveries(day: friday)
            #expect(rows.map(\.email).sorted() == ["a@example.com", "w@example.com"], "one row per (edition, subscriber)")
            #expect(try await CurationStore(database: world.database).calls(on: friday).count == llmCallsBefore, "no new model calls")

            let folder = URL(fileURLWithPath: world.settings.delivery.outboxDirectory).appendingPathComponent("2026-02-20")
            let week = try InspectedMessage.inspect(Array(try Data(contentsOf: folder.appendingPathComponent("w@example.com.eml"))))
            #expect(week.headers["Subject"]?.hasPrefix("ArXiv AI Weekly 2026-02-14 – 2026-02-20 | 4 picks") == true)
            let text = week.parts[0].text
            #expect(text.contains("ArXiv AI Weekly"))
            #expect(text.contains("Paper 0 of 2026-02-18") && text.contains("Paper 0 of 2026-02-20"), "papers of both days")
            #expect(text.contains("Scanned this week/picked for you: 8/4"))
            let daily = try InspectedMessage.inspect(Array(try Data(contentsOf: folder.appendingPathComponent("a@example.com.eml"))))
            #expect(daily.headers["Subject"]?.hasPrefix("ArXiv AI Daily 2026-02-20 Fri") == true)
            #expect(!daily.parts[0].text.contains("of 2026-02-18"))
        }
    }

    @Test("--limit sends part; the next run continues where it stopped; a new subscriber is picked up")
    func continues() async throws {
        try await MailWorld.with { world in
            #expect(try await world.send(SendOptions(limit: 2)).progress.sent == 2)
            try await world.subscribers.add(
                NewSubscriber(email: try EmailAddress("d@example.com"), name: nil, categories: ["cs.AI"], language: .zh, status: .active), source: .cli)
            let rest = try await world.send()
            #expect(rest.progress.sent == 2)
            #expect(try await world.deliveries.stats(day: MailWorld.day).first { $0.0 == .sent }?.1 == 4)
        }
    }

    @Test("paused subscribers and readers with none of the day's categories are logged as skipped, not mailed")
    func skipped() async throws {
        try await MailWorld.with(readers: [("a@example.com", ["cs.AI"]), ("v@example.com", ["cs.CV"])]) { world in
            try await world.subscribers.add(
                NewSubscriber(email: try EmailAddress("p@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .paused), source: .cli)
            let report = try await world.send()
            #expect(report.progress.sent == 1)
            let log = try await world.deliveries.deliveries(day: MailWorld.day)
            #expect(log.map(\.email) == ["a@example.com", "v@example.com", "p@example.com"])
            #expect(log.map(\.state) == [.sent, .skipped, .skipped])
            #expect(log[1].lastReply == "no papers in their categories")
            #expect(log[2].lastReply == "not active (paused)")
        }
    }

    @Test("rows a crashed run left in 'sending' are reported and failed, or sent again with --resend-uncertain")
    func uncertainAfterCrash() async throws {
        try await MailWorld.with { world in
            _ = try await world.send(SendOptions(limit: 1))
            // What a SIGKILL between the 'sending' commit and the outcome leaves behind.
            _ = try await world.deliveries.claim(day: MailWorld.day, limit: 1, includeDeferred: false)
            let report = try await world.send()
            #expect(report.uncertain.map(\.email) == ["b@example.com"])
            #expect(report.isPartial)
            let b = try #require(try await world.deliveries.deliveries(email: try EmailAddress("b@example.com")).first)
            #expect(b.state == .failed)
            #expect(b.lastReply == "uncertain after crash")
            #expect(report.progress.sent == 1)

            try await MailWorld.with { other in
                _ = try await other.deliveries.enqueue(day: MailWorld.day, queued: [(id: 1, email: "a@example.com")], skipped: [])
                _ = try await other.deliveries.claim(day: MailWorld.day, limit: 1, includeDeferred: false)
                let resent = try await other.send(SendOptions(resendUncertain: true))
                #expect(resent.uncertain.count == 1)
                #expect(resent.progress.sent == 3)
            }
        }
    }

    @Test("a send beside another sender leaves that sender's rows alone until its lease runs out, then takes them over")
    func lease() async throws {
        try await MailWorld.with { world in
            let readers = try await world.subscribers.recipients()
            _ = try await world.deliveries.enqueue(day: MailWorld.day, queued: readers.map { ($0.subscriberID, $0.email) }, skipped: [])
            let other = try await world.deliveries.acquireLease(day: MailWorld.day, owner: "other host pid 1", duration: 2)
            let reserved = try await world.deliveries.reserve(other, after: 0, limit: 1, includeDeferred: false)
            #expect(reserved.map(\.email) == ["a@example.com"])

            let report = try await world.send()
            // b and c at once; a once the other sender's lease had run out (it never came back).
            #expect(report.progress.sent == 3)
            #expect(report.uncertain.isEmpty)
            #expect(try await world.deliveries.senders(day: MailWorld.day).isEmpty, "both leases are gone")
            let log = try await world.deliveries.deliveries(day: MailWorld.day)
            #expect(log.allSatisfy { $0.state == .sent && $0.attempts == 1 })
        }
    }

    @Test("hard bounces on three days mark a subscriber bounced (one a day counts), who then gets no more mail")
    func bounceThreshold() async throws {
        let days = (20...23).map { Day(year: 2026, month: 2, day: $0)! }
        try await MailWorld.with(days: days) { world in
            let a = try await world.subscribers.get(try EmailAddress("a@example.com"))
            for (index, day) in days.prefix(3).enumerated() {
                let when = Date(timeIntervalSince1970: 1_771_545_600 + Double(index) * 86_400)
                _ = try await world.deliveries.enqueue(day: day, queued: [(id: a.id, email: "a@example.com")], skipped: [])
                _ = try await world.deliveries.claim(day: day, limit: 1, includeDeferred: false)
                try await world.deliveries.record(
                    [DeliveryOutcome(day: day, subscriberID: a.id, result: .failed(code: 550, reply: "550 5.1.1 User unknown", bounce: true))],
                    bouncePolicy: BouncePolicy(threshold: 3), now: when)
                // A second bounce the same day does not count twice.
                try await world.deliveries.record(
                    [DeliveryOutcome(day: day, subscriberID: a.id, result: .failed(code: 550, reply: "550 5.1.1 User unknown", bounce: true))],
                    bouncePolicy: BouncePolicy(threshold: 3), now: when.addingTimeInterval(3_600))
            }
            let bounced = try await world.subscribers.get(try EmailAddress("a@example.com"))
            #expect(bounced.bounceCount == 3)
            #expect(bounced.status == .bounced)
            #expect(try await world.subscribers.events(of: bounced).last?.source == .bounce)
            let report = try await world.send(SendOptions(day: days[3]))
            #expect(report.progress.sent == 2)
            #expect(try await world.deliveries.deliveries(day: days[3], email: try EmailAddress("a@example.com")).isEmpty)
        }
    }

    @Test("a dry run says what would be sent and changes nothing")
    func dryRun() async throws {
        try await MailWorld.with { world in
            let report = try await world.send(SendOptions(dryRun: true))
            #expect(report.dryRun)
            #expect(report.plan.first { $0.0 == .queued }?.1 == 3)
            #expect(try await world.deliveries.deliveries().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: world.settings.delivery.outboxDirectory))
        }
    }
}
