import Foundation
import GRDB
import PaperPostCore

/// How the newsletter is doing, in numbers an operator's dashboard can follow: the list by
/// status, sign-ups and unsubscribes so far, and the last daily run. Each figure is one SQL
/// aggregate, so reading it costs the same at ten readers or a million.
public struct NewsletterStatus: Sendable, Hashable {
    public var subscribers: [SubscriberStatus: Int]
    /// Sign-ups asked for on the web page (confirmation mailed).
    public var signUpsRequested: Int
    /// Sign-ups confirmed by their confirmation link.
    public var signUpsConfirmed: Int
    /// Unsubscribes by where they came from (`link`, `web`, `cli`, `bounce`…).
    public var unsubscribes: [SubscriberEvent.Source: Int]
    public var lastRun: DailyRun?
    /// The last run's digest, when the run got that far.
    public var lastDigest: DigestFigures?
    /// The last run's day's delivery log, by state.
    public var lastDeliveries: [Delivery.State: Int]

    public init(
        subscribers: [SubscriberStatus: Int], signUpsRequested: Int, signUpsConfirmed: Int, unsubscribes: [SubscriberEvent.Source: Int],
        lastRun: DailyRun?, lastDigest: DigestFigures?, lastDeliveries: [Delivery.State: Int]
    ) {
        self.subscribers = subscribers
        self.signUpsRequested = signUpsRequested
        self.signUpsConfirmed = signUpsConfirmed
        self.unsubscribes = unsubscribes
        self.lastRun = lastRun
        self.lastDigest = lastDigest
        self.lastDeliveries = lastDeliveries
    }

    /// A day's digest in numbers: papers scanned and picked, and what the model calls cost.
    public struct DigestFigures: Sendable, Hashable {
        public var scanned: Int
        public var picked: Int
        public var usage: TokenUsage

        public init(scanned: Int, picked: Int, usage: TokenUsage) {
            self.scanned = scanned
            self.picked = picked
            self.usage = usage
        }
    }

    /// Reads every figure in one read transaction, so they agree with each other.
    public static func read(from database: PaperPostDatabase) async throws -> NewsletterStatus {
        try await database.read { db in
            var subscribers: [SubscriberStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM subscriber GROUP BY status") {
                if let status = SubscriberStatus(rawValue: row["status"]) { subscribers[status] = row["n"] }
            }
            let events = EventTally(
                try Row.fetchAll(db, sql: "SELECT kind, source, COUNT(*) AS n FROM subscriber_event WHERE \(EventTally.kinds) GROUP BY kind, source")
                    .map { (kind: $0["kind"], source: $0["source"], count: $0["n"]) })
            let lastRun = try Row.fetchOne(db, sql: "SELECT * FROM daily_run ORDER BY id DESC LIMIT 1").map(DailyRunStore.run)
            var digest: DigestFigures?
            var deliveries: [Delivery.State: Int] = [:]
            if let day = lastRun?.day {
                // As the digest's header counts them: every scored paper, and the picks among them.
                let figures = """
                    SELECT n AS scanned, MIN(n, must_read + more) AS picked, currency
                    FROM digest, (SELECT COUNT(*) AS n FROM digest_entry WHERE day = ?1) WHERE day = ?1
                    """
                if let row = try Row.fetchOne(db, sql: figures, arguments: [day.description]) {
                    digest = DigestFigures(
                        scanned: row["scanned"], picked: row["picked"], usage: try CurationStore.usage(db, on: day, currency: row["currency"]))
                }
                for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM delivery WHERE day = ? GROUP BY state", arguments: [day.description]) {
                    if let state = Delivery.State(rawValue: row["state"]) { deliveries[state] = row["n"] }
                }
            }
            return NewsletterStatus(
                subscribers: subscribers, signUpsRequested: events.requested, signUpsConfirmed: events.confirmed, unsubscribes: events.unsubscribes,
                lastRun: lastRun, lastDigest: digest, lastDeliveries: deliveries)
        }
    }
}

/// Sign-ups and unsubscribes counted from the audit trail's events, grouped by kind and source
/// (the same `GROUP BY` on both engines).
package struct EventTally {
    /// The `WHERE` condition on `subscriber_event` that selects the events counted.
    package static let kinds = "kind IN ('added', 'confirmed', 'unsubscribed')"
    package var requested = 0
    package var confirmed = 0
    package var unsubscribes: [SubscriberEvent.Source: Int] = [:]

    package init(_ groups: [(kind: String, source: String, count: Int)]) {
        for group in groups {
            let source = SubscriberEvent.Source(rawValue: group.source)
            switch SubscriberEvent.Kind(rawValue: group.kind) {
            case .added where source == .web: requested += group.count
            case .confirmed: confirmed += group.count
            case .unsubscribed: if let source { unsubscribes[source, default: 0] += group.count }
            default: break
            }
        }
    }
}
