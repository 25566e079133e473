import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

extension NewsletterStatus {
    /// Reads every figure from PostgreSQL in one repeatable-read transaction, so that they agree
    /// with each other as they do on SQLite.
    public static func read(from database: PostgresDatabase) async throws -> NewsletterStatus {
        try await database.pooledTransaction { connection in
            try await database.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", on: connection)
            var subscribers: [SubscriberStatus: Int] = [:]
            for row in try await database.run("SELECT status, count(*) FROM subscriber GROUP BY status", on: connection) {
                let (status, count) = try row.decode((String, Int64).self)
                if let status = SubscriberStatus(rawValue: status) { subscribers[status] = Int(count) }
            }
            let events = EventTally(
                try await database.run(
                    PostgresQuery(unsafeSQL: "SELECT kind, source, count(*) FROM subscriber_event WHERE \(EventTally.kinds) GROUP BY kind, source"),
                    on: connection
                ).map {
                    let (kind, source, count) = try $0.decode((String, String, Int64).self)
                    return (kind, source, Int(count))
                })
            let lastRun = try await PostgresDailyRunStore.last(database, connection)
            var digest: DigestFigures?
            var deliveries: [Delivery.State: Int] = [:]
            if let day = lastRun?.day?.description {
                // As the digest's header counts them: every scored paper, and the picks among them.
                let figures = try await database.run(
                    """
                    SELECT n, least(n, must_read + more), currency
                    FROM digest, (SELECT count(*) AS n FROM digest_entry WHERE day = \(day)) entries WHERE day = \(day)
                    """,
                    on: connection)
                if let row = figures.first {
                    let (scanned, picked, currency) = try row.decode((Int64, Int64, String).self)
                    digest = DigestFigures(
                        scanned: Int(scanned), picked: Int(picked),
                        usage: try await PostgresCurationStore.usage(on: try Day(parsing: day), currency: currency, database, connection))
                }
                for row in try await database.run("SELECT state, count(*) FROM delivery WHERE day = \(day) GROUP BY state", on: connection) {
                    let (state, count) = try row.decode((String, Int64).self)
                    if let state = Delivery.State(rawValue: state) { deliveries[state] = Int(count) }
                }
            }
            return NewsletterStatus(
                subscribers: subscribers, signUpsRequested: events.requested, signUpsConfirmed: events.confirmed,
                unsubscribes: events.unsubscribes, lastRun: lastRun, lastDigest: digest, lastDeliveries: deliveries)
        }
    }
}
