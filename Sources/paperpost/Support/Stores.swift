import Mail
import PaperPostCore
import PaperPostStore
import PostgresStore

/// The installation's stores on whichever engine `PAPERPOST_DB` names: what `fetch`, `curate`,
/// `send` and `daily` run on.
struct Stores {
    var papers: any PaperArchive
    var curation: any CurationLedger
    var subscribers: any SubscriberList
    var runs: any DailyRunLog
    var sending: SendingStore
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
                    sending: SendingStore(sqlite: database, settings: settings)))
        }
        return try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: settings.databasePath), connections: connections) {
            database in
            try await body(
                Stores(
                    papers: PostgresPaperStore(database: database), curation: PostgresCurationStore(database: database),
                    subscribers: PostgresSubscriberStore(database: database), runs: PostgresDailyRunStore(database: database),
                    sending: .postgres(database, settings: settings)))
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
