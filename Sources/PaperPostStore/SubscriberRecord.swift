import Crypto
import Foundation
import GRDB
import PaperPostCore

/// A `subscriber` row. Categories live in `subscriber_category` and are joined in by
/// ``SubscriberStore``; this type never leaves the module.
struct SubscriberRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "subscriber"
    /// Column names spelled out and dates written without a `DateFormatter`: converting every
    /// key to snake case and formatting every date through Foundation, on every insert, was a
    /// third of a subscriber import's time.
    static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .custom { $0.fastDatabaseValue } }

    enum CodingKeys: String, CodingKey {
        case id, email, name, language, status, secret, schedule
        case emailKey = "email_key"
        case bounceCount = "bounce_count"
        case bounceScore = "bounce_score"
        case lastBounceAt = "last_bounce_at"
        case createdAt = "created_at"
        case confirmedAt = "confirmed_at"
        case unsubscribedAt = "unsubscribed_at"
        case updatedAt = "updated_at"
    }

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
        return "sha256:" + digest.hexEncoded
    }

    /// A subscriber's own link-signing secret is this many random bytes, hex-encoded.
    static let secretBytes = 32

    /// The columns a change may touch.
    var fields: SubscriberFields {
        get {
            SubscriberFields(
                name: name, language: language, status: status, schedule: schedule, confirmedAt: confirmedAt, unsubscribedAt: unsubscribedAt)
        }
        set {
            name = newValue.name
            language = newValue.language
            status = newValue.status
            schedule = newValue.schedule
            confirmedAt = newValue.confirmedAt
            unsubscribedAt = newValue.unsubscribedAt
        }
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
    static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .custom { $0.fastDatabaseValue } }

    enum CodingKeys: String, CodingKey {
        case id, kind, source, detail
        case subscriberId = "subscriber_id"
        case createdAt = "created_at"
    }

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
