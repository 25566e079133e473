import Crypto
import Foundation
import GRDB
import PaperPostCore

/// A `subscriber` row. Categories live in `subscriber_category` and are joined in by
/// ``SubscriberStore``; this type never leaves the module.
struct SubscriberRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "subscriber"
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    var id: Int64?
    var email: String?
    var emailKey: String
    var name: String?
    var language: String
    var status: String
    var secret: String
    var bounceCount: Int
    var bounceScore: Double
    var lastBounceAt: Date?
    var createdAt: Date
    var confirmedAt: Date?
    var unsubscribedAt: Date?
    var updatedAt: Date
    var schedule: String = "daily"

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// The key a forgotten address is kept under: enough to recognise the address if it is
    /// imported again, without storing it.
    static func forgottenKey(for key: String) -> String {
        let digest = SHA256.hash(data: Data(key.utf8))
        return "sha256:" + digest.map { String(format: "%02x", $0) }.joined()
    }

    /// 32 random bytes, hex-encoded: the subscriber's own link-signing secret.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }

    func subscriber(categories: [String], interests: ReaderInterests = .none) -> Subscriber {
        Subscriber(
            id: id!,
            email: email,
            name: name,
            language: Language(rawValue: language) ?? .en,
            status: SubscriberStatus(rawValue: status) ?? .paused,
            categories: categories,
            bounceCount: bounceCount,
            bounceScore: bounceScore,
            createdAt: createdAt,
            confirmedAt: confirmedAt,
            unsubscribedAt: unsubscribedAt,
            interests: interests,
            schedule: (try? Schedule(parsing: schedule)) ?? .daily
        )
    }
}

struct SubscriberEventRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "subscriber_event"
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    var id: Int64?
    var subscriberId: Int64
    var kind: String
    var source: String
    var detail: String?
    var createdAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
