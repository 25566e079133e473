import Foundation
import GRDB

/// The one SQLite database behind the CLI, the daily job and the web server.
///
/// It is opened in WAL mode with a busy timeout, so a second process (the web server while
/// `send` runs, say) waits for a writer instead of failing with "database is locked".
public struct PaperPostDatabase: Sendable {
    let writer: DatabasePool

    /// How often a connection that finds the database locked tries again. SQLite's own busy
    /// timeout backs off to one try per 100 ms, so a waiting writer would mostly miss the short
    /// pause a long job (an import) leaves between its transactions and could wait behind it
    /// for its whole run; trying this often, it gets in during the first such pause. Two sends
    /// of one digest, committing a claim per message each, took 39 s for 100,000 messages
    /// with 2 ms between tries and 32 s with 0.5 ms (one send alone: 30 s).
    static let busyRetryInterval: TimeInterval = 0.0005

    /// The migration every PaperPost database has recorded, whatever its version.
    static let firstMigration = "v1: subscribers"

    /// Opens the database at `path`, creating it and its directory if needed, and migrates it
    /// to the current schema.
    ///
    /// A writer waits up to `busyTimeout` for another one to finish, so that commands, the web
    /// server and the daily job can share the file. An existing SQLite file that some other
    /// application made is refused before anything is written to it: migrating it would add
    /// PaperPost's tables to somebody else's data.
    ///
    /// - Throws: ``StoreError/foreignDatabase(path:tables:)`` for another application's
    ///   database, else ``StoreError/cannotOpen(path:reason:)`` naming the file.
    public static func open(path: String, busyTimeout: TimeInterval = 30) throws(StoreError) -> PaperPostDatabase {
        try refuseForeignDatabase(at: path)
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            let tries = Int(busyTimeout / busyRetryInterval)
            configuration.busyMode = .callback { numberOfTries in
                guard numberOfTries < tries else { return false }
                Thread.sleep(forTimeInterval: busyRetryInterval)
                return true
            }
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA foreign_keys = ON")
                // In WAL mode, NORMAL keeps every committed transaction across a crash of the
                // process (what the delivery log's exactly-once rule needs); only a power cut
                // can lose the last few. FULL would fsync on every commit.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            let pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
            return PaperPostDatabase(writer: pool)
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Throws when `path` is a non-empty SQLite database with tables of its own and no record of
    /// PaperPost's migrations. It is only read, through a read-only connection, so a refused
    /// file is left exactly as it was; a missing or empty file is a new database.
    private static func refuseForeignDatabase(at path: String) throws(StoreError) {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else { return }
        let tables: [String]
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let connection = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? connection.close() }
            tables = try connection.read { db in
                let tables = try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                guard tables.contains("grdb_migrations") else { return tables }
                let migrated = try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM grdb_migrations WHERE identifier = ?)", arguments: [firstMigration]) ?? false
                return migrated ? [] : tables.filter { $0 != "grdb_migrations" }
            }
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        guard tables.isEmpty else {
            throw .foreignDatabase(path: path, tables: tables)
        }
    }
}

/// A failure of the store, or a request that contradicts what it holds.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    /// The file is another application's SQLite database (it has these tables and was never
    /// migrated by PaperPost); nothing was written to it.
    case foreignDatabase(path: String, tables: [String])
    case notFound(email: String)
    case alreadyExists(email: String, status: SubscriberStatusName)
    case database(String)

    /// The status spelled as the CLI shows it (kept as text so the error stays `Sendable`
    /// and independent of the domain enum).
    public typealias SubscriberStatusName = String

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open the database '\(path)': \(reason) (set --db or PAPERPOST_DB to a writable path)"
        case .foreignDatabase(let path, let tables):
            "'\(path.escapingTerminalControls)' is not a PaperPost database: it holds another application's tables ("
                + tables.prefix(5).map(\.quotedForMessage).joined(separator: ", ")
                + (tables.count > 5 ? " and \(tables.count - 5) more" : "")
                + "), so nothing was written to it. Point PAPERPOST_DB (or --db) at a new file or at an existing PaperPost database"
        case .notFound(let email):
            "no subscriber with the address '\(email)'"
        case .alreadyExists(let email, let status):
            if status == "unsubscribed" || status == "bounced" {
                "'\(email)' is already on the list and \(status); it is not re-added. "
                    + "If the person asked to come back, run: paperpost subscribers update \(email) --status active"
            } else {
                "'\(email)' is already subscribed (status \(status)); use 'paperpost subscribers update' to change it"
            }
        case .database(let message):
            "database error: \(message)"
        }
    }
}

extension PaperPostDatabase {
    /// Runs `body` in a write transaction; SQLite's own errors become ``StoreError/database(_:)``,
    /// everything else (the store's and the input's typed errors) passes through unchanged.
    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch let error as DatabaseError {
            throw StoreError.database(error.description)
        }
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await writer.read(body)
        } catch let error as DatabaseError {
            throw StoreError.database(error.description)
        }
    }
}
