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

    @Option(help: "queued, sending, sent, deferred, failed, skipped or bounced.")
    var status: Delivery.State?

    @Option(help: "Only this subscriber.")
    var email: String?

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let email = try email.map { try EmailAddress($0) }
        try await global.withDeliveryLog { deliveries in
            try await list(deliveries, email: email)
        }
    }

    private func list(_ deliveries: any DeliveryLog, email: EmailAddress?) async throws {
        var writer = ListingWriter(
            columns: ["day", "email", "state", "attempts", "last_code", "last_reply", "message_id", "bytes", "next_attempt_at", "sent_at", "relay", "sender"],
            format: format
        ) { Terminal.write($0) }
        try await deliveries.forEachDeliveryPage(day: date, state: status, email: email) { page in
            for row in page {
                writer.append([
                    .text(row.day.description), .text(row.email), .text(row.state.rawValue), .number(row.attempts),
                    row.lastCode.map { .number($0) } ?? .text(nil), .text(row.lastReply), .text(row.messageID),
                    row.bytes.map { .number($0) } ?? .text(nil), .text(row.nextAttemptAt?.timestamp), .text(row.sentAt?.timestamp),
                    .text(row.relay), .text(row.sender),
                ])
            }
        }
        writer.finish()
    }
}

struct DeliveryStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Count deliveries by state, by relay (--by relay), or bounces and complaints per digest (--by digest).")

    enum View: String, ExpressibleByArgument, CaseIterable {
        case state, digest, relay
    }

    @OptionGroup var global: GlobalOptions

    @Option(help: "The digest's day (default: every day).")
    var date: Day?

    @Option(help: "state (deliveries per state), digest (bounces, complaints and the complaint rate per digest) or relay (deliveries per relay and state).")
    var by: View = .state

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    func run() async throws {
        switch by {
        case .state:
            var listing = Listing(columns: ["state", "deliveries"])
            for (state, count) in try await global.withDeliveryLog({ try await $0.stats(day: date) }) {
                listing.append([.text(state.rawValue), .number(count)])
            }
            Terminal.write(listing.rendered(as: format))
        case .relay:
            var listing = Listing(columns: ["relay", "state", "deliveries"])
            for (relay, state, count) in try await global.withDeliveryLog({ try await $0.statsByRelay(day: date) }) {
                listing.append([.text(relay), .text(state.rawValue), .number(count)])
            }
            Terminal.write(listing.rendered(as: format))
        case .digest:
            var listing = Listing(columns: ["day", "delivered", "hard_bounces", "soft_bounces", "complaints", "complaint_rate"])
            for stats in try await global.withDeliveryLog({ try await $0.bounceStats(day: date) }) {
                listing.append([
                    .text(stats.day.description), .number(stats.delivered), .number(stats.hardBounces), .number(stats.softBounces),
                    .number(stats.complaints), .decimal(stats.complaintRate),
                ])
                if stats.complaintRate > BounceStats.complaintRateWarning {
                    Terminal.error(
                        "warning: \(stats.day): complaint rate \(String(format: "%.2f", stats.complaintRate * 100)) % is above 0.1 %; "
                            + "Gmail and Yahoo filter senders above 0.3 %. Check who is on the list and how they joined.")
                }
            }
            Terminal.write(listing.rendered(as: format))
        }
    }
}
