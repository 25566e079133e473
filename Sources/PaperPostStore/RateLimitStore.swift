import Crypto
import Foundation
import GRDB
import PaperPostCore

/// Sliding-window limits kept in the database, so that they hold across every `paperpost
/// serve` sharing it (replicas behind one load balancer) and across restarts: a limit on the
/// confirmation mails one address may be sent is a promise to that address's owner, which a
/// second replica must not double.
///
/// Keys are stored as keyed hashes (HMAC-SHA-256 with the server secret), so the table holds
/// no client address and no email address.
public struct RateLimitStore: Sendable {
    let database: PaperPostDatabase
    let key: SymmetricKey

    public init(database: PaperPostDatabase, serverSecret: SymmetricKey) {
        self.database = database
        self.key = serverSecret
    }

    /// Records one event for `key` in `scope`, or refuses it, in one write transaction: two
    /// replicas admitting the same key at once are serialised by the database's write lock.
    ///
    /// - Returns: `nil` when admitted, otherwise how long until the key may try again.
    public func admit(scope: String, key: String, limit: Int, window: Duration, now: Date = Date()) async throws -> Duration? {
        let hashed = RateLimitKey.hashed(scope: scope, key: key, secret: self.key)
        let windowSeconds = window.seconds
        return try await database.write { db in
            let moment = now.timeIntervalSince1970
            try db.execute(
                sql: "DELETE FROM rate_event WHERE scope = ? AND key = ? AND at <= ?", arguments: [scope, hashed, moment - windowSeconds])
            let row = try Row.fetchOne(
                db, sql: "SELECT COUNT(*) AS n, MIN(at) AS first FROM rate_event WHERE scope = ? AND key = ?", arguments: [scope, hashed])
            let count: Int = row?["n"] ?? 0
            if count >= limit, let first: Double = row?["first"] {
                return RateLimitKey.wait(oldest: first, window: windowSeconds, now: moment)
            }
            try db.execute(sql: "INSERT INTO rate_event (scope, key, at) VALUES (?, ?, ?)", arguments: [scope, hashed, moment])
            if Int.random(in: 0..<1_000) == 0 {
                try db.execute(sql: "DELETE FROM rate_event WHERE at <= ?", arguments: [moment - RateLimitKey.retention])
            }
            return nil
        }
    }
}
