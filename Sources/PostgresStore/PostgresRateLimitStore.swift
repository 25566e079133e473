import Crypto
import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// Sign-up limits in PostgreSQL, shared by every `serve` replica on any host. Keys are stored as
/// keyed hashes, as on SQLite.
public struct PostgresRateLimitStore: RateLimiter {
    let database: PostgresDatabase
    let key: SymmetricKey

    public init(database: PostgresDatabase, serverSecret: SymmetricKey) {
        self.database = database
        self.key = serverSecret
    }

    public func admit(scope: String, key: String, limit: Int, window: Duration, now: Date) async throws -> Duration? {
        let hashed = ByteBuffer(bytes: RateLimitKey.hashed(scope: scope, key: key, secret: self.key))
        let windowSeconds = window.seconds
        let moment = now.timeIntervalSince1970
        return try await database.pooledTransaction { connection in
            // Two replicas admitting one key at once count one after the other: without the lock
            // both would count the same rows and both admit the last place.
            try await database.run(
                "SELECT pg_advisory_xact_lock(hashtextextended(\(scope) || encode(\(hashed), 'hex'), 0))", on: connection)
            try await database.run(
                "DELETE FROM rate_event WHERE scope = \(scope) AND key = \(hashed) AND at <= \(moment - windowSeconds)", on: connection)
            let counted = try await database.run(
                "SELECT count(*), min(at) FROM rate_event WHERE scope = \(scope) AND key = \(hashed)", on: connection)
            let (count, oldest) = try counted.first?.decode((Int64, Double?).self) ?? (Int64(0), nil)
            if count >= limit, let oldest {
                return RateLimitKey.wait(oldest: oldest, window: windowSeconds, now: moment)
            }
            try await database.run("INSERT INTO rate_event (scope, key, at) VALUES (\(scope), \(hashed), \(moment))", on: connection)
            if Int.random(in: 0..<1_000) == 0 {
                try await database.run("DELETE FROM rate_event WHERE at <= \(moment - RateLimitKey.retention)", on: connection)
            }
            return nil
        }
    }
}
