import ArgumentParser
import PaperPostCore
import PaperPostStore

struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The delivery log.", subcommands: [ListDeliveries.self, DeliveryStats.self], defaultSubcommand: ListDeliveries.self)
}

extension Delivery.State: ExpressibleByArgument {}

struct ListDeliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List deliveries.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The digest's day.")
    var date: Day?

    @Option(help: "queued, sending, sent, deferred, failed or skipped.")
    var status: Delivery.State?

    @Option(help: "Only this subscriber.")
    var email: String?

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let (database, _) = try await global.database()
        let rows = try await DeliveryStore(database: database)
            .deliveries(day: date, state: status, email: try email.map { try EmailAddress($0) })
        var listing = Listing(columns: [
            "day", "email", "state", "attempts", "last_code", "last_reply", "message_id", "bytes", "next_attempt_at", "sent_at",
        ])
        for row in rows {
            listing.append([
                .text(row.day.description), .text(row.email), .text(row.state.rawValue), .number(row.attempts),
                row.lastCode.map { .number($0) } ?? .text(nil), .text(row.lastReply), .text(row.messageID),
                row.bytes.map { .number($0) } ?? .text(nil), .text(row.nextAttemptAt?.timestamp), .text(row.sentAt?.timestamp),
            ])
        }
        Terminal.write(listing.rendered(as: format))
    }
}

struct DeliveryStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Count deliveries by state.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The digest's day (default: every day).")
    var date: Day?

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let (database, _) = try await global.database()
        var listing = Listing(columns: ["state", "deliveries"])
        for (state, count) in try await DeliveryStore(database: database).stats(day: date) {
            listing.append([.text(state.rawValue), .number(count)])
        }
        Terminal.write(listing.rendered(as: format))
    }
}
