import Foundation
@testable import Mail
import PaperPostCore
import PaperPostStore
import Rendering
import Testing

@Suite("Filling the delivery log a page at a time")
struct QueueFillerTests {
    @Test("pages are added in id order up to the frontier; the plan, the rows and a second fill agree")
    func pages() async throws {
        let readers = [
            ("a@example.com", ["cs.AI"]), ("v@example.com", ["cs.CV"]), ("b@example.com", ["cs.LG"]), ("c@example.com", ["cs.AI"]),
            ("d@example.com", ["cs.LG"]),
        ]
        try await MailWorld.with(readers: readers) { world in
            try await world.subscribers.add(
                NewSubscriber(email: try EmailAddress("p@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .paused), source: .cli)
            _ = try await world.subscribers.unsubscribe(try EmailAddress("c@example.com"), source: .cli)
            let digest = try #require(try await CurationStore(database: world.database).digest(on: MailWorld.day))
            let composer = try EmailComposer(digest: digest, recipients: [], settings: world.settings, serverSecret: .init(size: .bits256))
            let filler = QueueFiller(
                day: MailWorld.day, subscribers: world.subscribers, deliveries: world.deliveries, composer: composer, only: nil, pageSize: 2)

            let plan = try await filler.plan()
            #expect(plan.queued == 3 && plan.skipped == 2)
            #expect(try await world.deliveries.deliveries().isEmpty, "planning writes nothing")

            #expect(try await filler.fillNextPage() == 1, "v@ is active but has nothing to read")
            #expect(try await world.deliveries.deliveries(day: MailWorld.day).map(\.email) == ["a@example.com", "v@example.com"])
            #expect(await filler.frontier == 2)
            #expect(try await world.deliveries.due(day: MailWorld.day, after: 0, through: await filler.frontier, limit: 10, includeDeferred: false)
                .map(\.email) == ["a@example.com"])

            try await filler.finish()
            #expect(await filler.isDone)
            #expect(await filler.added == 5)
            let log = try await world.deliveries.deliveries(day: MailWorld.day)
            #expect(log.map(\.email) == ["a@example.com", "v@example.com", "b@example.com", "d@example.com", "p@example.com"], "no row for the unsubscribed c@")
            #expect(log.map(\.state) == [.queued, .skipped, .queued, .queued, .skipped])
            #expect(log.map { $0.lastReply ?? "" } == ["", "no papers in their categories", "", "", "not active (paused)"])

            let again = QueueFiller(
                day: MailWorld.day, subscribers: world.subscribers, deliveries: world.deliveries, composer: composer, only: nil, pageSize: 2)
            #expect(try await again.plan() == (0, 0))
            try await again.finish()
            #expect(await again.added == 0, "a row is never added twice")
        }
    }

    @Test("a send cut short by --limit still leaves every reader's row in the log, and a dry run counts the rows not yet added")
    func limitedSendLogsEveryone() async throws {
        try await MailWorld.with { world in
            let dry = try await world.send(SendOptions(dryRun: true))
            #expect(dry.plan.first { $0.0 == .queued }?.1 == 3)
            let report = try await world.send(SendOptions(limit: 1))
            #expect(report.progress.sent == 1)
            #expect(report.enqueued == 3)
            let states = try await world.deliveries.deliveries(day: MailWorld.day).map(\.state)
            #expect(states == [.sent, .queued, .queued])
            let after = try await world.send(SendOptions(dryRun: true))
            #expect(after.plan.first { $0.0 == .queued }?.1 == 2, "the queued rows, not counted twice")
        }
    }
}
