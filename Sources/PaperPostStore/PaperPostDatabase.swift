import Foundation
import GRDB

/// The one SQLite database behind the CLI, the daily job and the web server.
///
/// It is opened in WAL mode with a busy timeout, so a second process (the web server while
/// `send` runs, say) waits for a writer instead of failing with "database is locked".
public struct PaperPostDatabase: Sendable {
    let writer: DatabasePool

    /// Opens the database at `path`, creating it and its directory if needed, and migrates it
    /// to the current schema.
    ///
    /// - Throws: ``StoreError/cannotOpen(path:reason:)`` naming the file.
    public static func open(path: String, busyTimeout: TimeInterval = 30) throws(StoreError) -> PaperPostDatabase {
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(busyTimeout)
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
}

/// A failure of the store, or a request that contradicts what it holds.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
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
