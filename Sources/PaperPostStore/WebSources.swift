import Crypto
import Foundation
import PaperPostCore

/// Past editions as the archive pages and the feed show them. Two implementations: SQLite
/// (``CurationStore``) and PostgreSQL.
public protocol EditionArchive: DigestArchive {
    /// Days with a digest, newest first.
    func digestDays(limit: Int) async throws -> [Day]
    /// When each of the latest digests was made, newest day first: what tells a cached page
    /// that the day was curated again.
    func digestStamps(limit: Int) async throws -> [(day: Day, createdAt: String)]
    /// When the day's digest was made, if there is one.
    func digestStamp(on day: Day) async throws -> String?
}

/// Sliding-window limits that hold across every `serve` sharing the store. Two
/// implementations: SQLite (``RateLimitStore``) and PostgreSQL.
public protocol RateLimiter: Sendable {
    /// Records one event for `key` in `scope`, or refuses it.
    ///
    /// - Returns: `nil` when admitted, otherwise how long until the key may try again.
    func admit(scope: String, key: String, limit: Int, window: Duration, now: Date) async throws -> Duration?
}

extension RateLimiter {
    public func admit(scope: String, key: String, limit: Int, window: Duration) async throws -> Duration? {
        try await admit(scope: scope, key: key, limit: limit, window: window, now: Date())
    }
}

/// How rate-limit keys are stored: a keyed hash (HMAC-SHA-256 with the server secret, 16 bytes),
/// so that the table holds no client address and no email address.
package enum RateLimitKey {
    package static func hashed(scope: String, key: String, secret: SymmetricKey) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("\(scope)\u{0}\(key)".utf8), using: secret).prefix(16))
    }

    /// How long until the oldest event in the window leaves it.
    package static func wait(oldest: Double, window: Double, now: Double) -> Duration {
        .milliseconds(max(1, Int(((oldest + window - now) * 1_000).rounded(.up))))
    }

    /// Events older than this are dropped by whichever sign-up happens to clear them (one in a
    /// thousand): keys nobody uses again would otherwise stay forever.
    package static let retention: Double = 7 * 86_400
}

extension CurationStore: EditionArchive {}
extension RateLimitStore: RateLimiter {}
