import Curation
import Foundation
import Mail
import PaperPostCore
import PaperPostStore
import TestSupport

/// A database with subscribers, a fetched and curated day, ready to send.
struct MailWorld {
    static let templates = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path
    static let day = Day(year: 2026, month: 2, day: 20)!

    var database: PaperPostDatabase
    var settings: Settings
    var directory: URL

    var deliveries: DeliveryStore { DeliveryStore(database: database) }
    var subscribers: SubscriberStore { SubscriberStore(database: database, settings: settings) }

    func send(_ options: SendOptions = SendOptions(), transport: (any MailTransport)? = nil) async throws -> SendReport {
        try await SendJob(
            settings: settings, database: database,
            transport: transport ?? OutboxTransport(directory: settings.delivery.outboxDirectory)
        ).run(options)
    }

    /// Papers in cs.AI and cs.LG on `day` (and optionally more days), curated heuristically.
    static func with(
        readers: [(String, [String])] = [("a@example.com", ["cs.AI"]), ("b@example.com", ["cs.LG"]), ("c@example.com", ["cs.AI", "cs.LG"])],
        days: [Day] = [MailWorld.day],
        _ body: (MailWorld) async throws -> Void
    ) async throws {
        try await withTemporaryStore { store, directory in
            var settings = store.settings
            settings.templatesDirectory = templates
            settings.baseURL = "https://digest.example.org"
            settings.delivery.outboxDirectory = directory.appendingPathComponent("outbox").path
            settings.delivery.retryBase = .milliseconds(10)
            settings.mail.secret = "test-secret"
            for (email, categories) in readers {
                try await store.add(
                    NewSubscriber(email: try EmailAddress(email), name: "Reader \(email.prefix(1))", categories: categories, language: .en, status: .active),
                    source: .cli)
            }
            for (index, day) in days.enumerated() {
                let papers = (0..<4).map { number in
                    AnnouncedPaper(
                        paper: Paper(
                            id: String(format: "2602.%02d%03d", index, number), version: 1, title: "Paper \(number) of \(day)",
                            abstract: "Agents struggle. We propose a method. It works. Experiments show gains.", authors: ["A. Author"],
                            categories: [number % 2 == 0 ? "cs.AI" : "cs.LG"]),
                        announceType: .new)
                }
                _ = try await PaperStore(database: store.database).record(day: day, categories: ["cs.AI", "cs.LG"], papers: papers, source: "test")
                _ = try await Curation(settings: settings, database: store.database).run(CurationOptions(day: day))
            }
            try await body(MailWorld(database: store.database, settings: settings, directory: directory))
        }
    }
}
