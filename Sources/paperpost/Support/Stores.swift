import Mail
import PaperPostCore
import PaperPostStore
import PostgresStore
import Web
import struct Crypto.SymmetricKey

/// The installation's stores on whichever engine `PAPERPOST_DB` names.
struct Stores {
    var papers: any PaperArchive
    var curation: any CurationLedger & EditionArchive
    var subscribers: any SubscriberRegistry
    var runs: any DailyRunLog
    var sending: SendingStore
    var bounces: any BounceLedger
    /// Sign-up limits, their keys hashed with the link key.
    var limits: @Sendable (SymmetricKey) -> any RateLimiter
    var status: @Sendable () async throws -> NewsletterStatus

    /// What `serve` runs on.
    func web() async throws -> WebStores {
        let key = try await sending.linkKey()
        return WebStores(subscribers: subscribers, editions: curation, papers: papers, limits: limits(key), status: status, linkKey: key)
    }
}

extension GlobalOptions {
    /// Opens the stores for the length of `body`.
    ///
    /// - Parameter connections: the most connections to PostgreSQL open at once.
    func withStores<T: Sendable>(_ settings: Settings, connections: Int = 4, _ body: (Stores) async throws -> T) async throws -> T {
        guard settings.storesInPostgreSQL else {
            let database = try PaperPostDatabase.open(path: settings.databasePath)
            return try await body(
                Stores(
                    papers: PaperStore(database: database), curation: CurationStore(database: database),
                    subscribers: SubscriberStore(database: database, settings: settings), runs: DailyRunStore(database: database),
                    sending: SendingStore(sqlite: database, settings: settings), bounces: BounceStore(database: database),
                    limits: { RateLimitStore(database: database, serverSecret: $0) }, status: { try await NewsletterStatus.read(from: database) }))
        }
        return try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: settings.databasePath), connections: connections) {
            database in
            try await body(
                Stores(
                    papers: PostgresPaperStore(database: database), curation: PostgresCurationStore(database: database),
                    subscribers: PostgresSubscriberStore(database: database, settings: settings), runs: PostgresDailyRunStore(database: database),
                    sending: .postgres(database, settings: settings), bounces: PostgresBounceStore(database: database),
                    limits: { PostgresRateLimitStore(database: database, serverSecret: $0) },
                    status: { try await NewsletterStatus.read(from: database) }))
        }
    }
}

extension SendingStore {
    /// The stores of a PostgreSQL installation, which senders on several hosts share.
    static func postgres(_ database: PostgresDatabase, settings: Settings) -> SendingStore {
        SendingStore(
            digests: PostgresCurationStore(database: database), recipients: PostgresSubscriberStore(database: database),
            deliveries: PostgresDeliveryStore(database: database), linkKey: { try await database.linkKey(settings) })
    }
}
