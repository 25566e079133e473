import Foundation
import GRDB
import PaperPostCore

/// Which subscribers a read of recipients returns.
public struct RecipientFilter: Sendable, Hashable {
    /// The statuses to include; active readers only unless a caller needs the others (a send
    /// logs paused and pending readers as skipped).
    public var statuses: [SubscriberStatus]
    /// Only readers on one of these schedules.
    public var schedules: [Schedule]?
    /// Only readers whose interests or votes give them their own order.
    public var personal: Bool
    /// Only the subscriber with this id.
    public var id: Int64?
    /// Only the subscriber with this address.
    public var address: EmailAddress?

    public init(
        statuses: [SubscriberStatus] = [.active], schedules: [Schedule]? = nil, personal: Bool = false, id: Int64? = nil,
        address: EmailAddress? = nil
    ) {
        self.statuses = statuses
        self.schedules = schedules
        self.personal = personal
        self.id = id
        self.address = address
    }

    /// Every subscriber whose address is kept, whatever their status.
    public static let everyStatus = RecipientFilter(statuses: SubscriberStatus.allCases)

    /// The `WHERE` clause of the `subscriber` table (aliased `s`) and its arguments.
    var condition: (sql: String, arguments: StatementArguments) {
        var sql = "s.email IS NOT NULL AND s.status IN (\(databaseQuestionMarks(count: statuses.count)))"
        var arguments = StatementArguments(statuses.map(\.rawValue))
        if let schedules {
            sql += " AND s.schedule IN (\(databaseQuestionMarks(count: schedules.count)))"
            arguments += StatementArguments(schedules.map(\.description))
        }
        if personal {
            sql += """
                 AND (EXISTS (SELECT 1 FROM subscriber_interest i WHERE i.subscriber_id = s.id)
                 OR EXISTS (SELECT 1 FROM subscriber_taste t WHERE t.subscriber_id = s.id))
                """
        }
        if let id {
            sql += " AND s.id = ?"
            arguments += [id]
        }
        if let address {
            sql += " AND s.email_key = ?"
            arguments += [address.key]
        }
        return (sql, arguments)
    }
}

/// Editions as the list asks for them: a set of categories in a language, and how many
/// readers get it.
public struct EditionDemand: Sendable, Hashable {
    /// Sorted.
    public var categories: [String]
    public var language: Language
    public var readers: Int

    public init(categories: [String], language: Language, readers: Int) {
        self.categories = categories
        self.language = language
        self.readers = readers
    }
}

/// Reading recipients a page at a time, and the questions about the whole list that are
/// answered in SQL: a send or a curation of a million readers holds one page, never the list.
extension SubscriberStore {
    /// The recipients the filter selects, with what mailing them takes, in id order; `limit`
    /// of them after the subscriber with id `after`.
    public func recipients(after id: Int64 = 0, limit: Int, _ filter: RecipientFilter = RecipientFilter()) async throws -> [Recipient] {
        try await database.read { db in try Self.recipients(db, after: id, limit: limit, filter) }
    }

    /// The recipients with these ids that the filter selects, by id.
    public func recipients(ids: [Int64], _ filter: RecipientFilter = RecipientFilter()) async throws -> [Int64: Recipient] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in
            let (condition, arguments) = filter.condition
            let rows = try Row.fetchAll(
                db, sql: Self.recipientColumns + " WHERE \(condition) AND s.id IN (\(databaseQuestionMarks(count: ids.count)))",
                arguments: arguments + StatementArguments(ids))
            return Dictionary(uniqueKeysWithValues: try Self.recipients(db, rows).map { ($0.subscriberID, $0) })
        }
    }

    /// How many subscribers the filter selects.
    public func count(_ filter: RecipientFilter) async throws -> Int {
        try await database.read { db in
            let (condition, arguments) = filter.condition
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM subscriber s WHERE \(condition)", arguments: arguments) ?? 0
        }
    }

    /// The editions the active readers who take the day's order as it is (no interests, no
    /// votes) will get, with how many readers get each. One pass over the categories in id
    /// order: what is held is one entry per distinct edition, never the readers.
    public func editionDemand() async throws -> [EditionDemand] {
        try await database.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT s.id, s.language, c.category FROM subscriber s
                    LEFT JOIN subscriber_category c ON c.subscriber_id = s.id
                    WHERE s.email IS NOT NULL AND s.status = 'active'
                    AND NOT EXISTS (SELECT 1 FROM subscriber_interest i WHERE i.subscriber_id = s.id)
                    AND NOT EXISTS (SELECT 1 FROM subscriber_taste t WHERE t.subscriber_id = s.id)
                    ORDER BY s.id, c.category
                    """)
            struct Edition: Hashable {
                var categories: [String]
                var language: Language
            }
            var counts: [Edition: Int] = [:]
            var current: (id: Int64, language: Language, categories: [String])?
            func close() {
                guard let reader = current else { return }
                counts[Edition(categories: reader.categories, language: reader.language), default: 0] += 1
            }
            while let row = try rows.next() {
                let id: Int64 = row[0]
                if current?.id != id {
                    close()
                    current = (id, Language(rawValue: row[1]) ?? .en, [])
                }
                if let category: String = row[2] { current?.categories.append(category) }
            }
            close()
            return counts.map { EditionDemand(categories: $0.categories, language: $0.language, readers: $1) }.sorted { ($0.readers, $1.categories.joined(separator: " ")) > ($1.readers, $0.categories.joined(separator: " ")) }
        }
    }

    /// The languages at least one active subscriber reads.
    public func activeLanguages() async throws -> [Language] {
        try await stats().activeByLanguage.filter { $0.1 > 0 }.map(\.0)
    }
}

extension SubscriberStore {
    /// Six columns read by position: decoding whole records (dates included) made reading
    /// recipients the slowest step of starting a large send.
    static let recipientColumns = "SELECT s.id, s.email, s.name, s.language, s.secret, s.status, s.schedule FROM subscriber s"

    static func recipients(_ db: Database, after id: Int64, limit: Int, _ filter: RecipientFilter) throws -> [Recipient] {
        let (condition, arguments) = filter.condition
        let rows = try Row.fetchAll(
            db, sql: recipientColumns + " WHERE \(condition) AND s.id > ? ORDER BY s.id LIMIT ?", arguments: arguments + [id, max(0, limit)])
        return try recipients(db, rows)
    }

    /// Recipients from rows of ``recipientColumns``, with the categories, interests and tastes
    /// of just those subscribers.
    static func recipients(_ db: Database, _ rows: [Row]) throws -> [Recipient] {
        let ids = rows.map { $0[0] as Int64 }
        let categories = try categories(db, of: ids)
        let interests = try interests(db, of: ids)
        let tastes = try tastes(db, of: ids)
        return rows.map { row in
            let id: Int64 = row[0]
            return Recipient(
                subscriberID: id, email: row[1], name: row[2], language: Language(rawValue: row[3]) ?? .en,
                categories: categories[id] ?? [], linkSecret: row[4], status: SubscriberStatus(rawValue: row[5]) ?? .paused,
                interests: interests[id] ?? .none, taste: tastes[id] ?? TasteVector(), schedule: (try? Schedule(parsing: row[6])) ?? .daily)
        }
    }

    /// Categories by subscriber, in each one's own order.
    static func categories(_ db: Database, of ids: [Int64]) throws -> [Int64: [String]] {
        var result: [Int64: [String]] = [:]
        try forEachRow(
            db, "SELECT subscriber_id, category FROM subscriber_category WHERE subscriber_id IN", ids, "ORDER BY subscriber_id, position"
        ) { row in
            result[row[0] as Int64, default: []].append(row[1])
        }
        return result
    }

    /// Interests by subscriber; subscribers without any are absent.
    static func interests(_ db: Database, of ids: [Int64]) throws -> [Int64: ReaderInterests] {
        var lists: [Int64: [ReaderInterests.Kind: [String]]] = [:]
        try forEachRow(
            db, "SELECT subscriber_id, kind, phrase FROM subscriber_interest WHERE subscriber_id IN", ids,
            "ORDER BY subscriber_id, kind, position"
        ) { row in
            guard let kind = ReaderInterests.Kind(rawValue: row[1]) else { return }
            lists[row[0] as Int64, default: [:]][kind, default: []].append(row[2])
        }
        return try lists.mapValues { try ReaderInterests(interests: $0[.interest] ?? [], muted: $0[.muted] ?? [], authors: $0[.author] ?? []) }
    }

    /// Tastes by subscriber; subscribers who never voted are absent.
    static func tastes(_ db: Database, of ids: [Int64]) throws -> [Int64: TasteVector] {
        var tastes: [Int64: TasteVector] = [:]
        try forEachRow(db, "SELECT subscriber_id, terms FROM subscriber_taste WHERE subscriber_id IN", ids, "") { row in
            let json: String = row[1]
            tastes[row[0]] = (try? JSONDecoder().decode([String: Double].self, from: Data(json.utf8))).map(TasteVector.init)
        }
        return tastes
    }

    /// Runs `select (ids…) suffix` in chunks that stay under SQLite's limit on arguments.
    private static func forEachRow(_ db: Database, _ select: String, _ ids: [Int64], _ suffix: String, _ body: (Row) throws -> Void) throws {
        var start = ids.startIndex
        while start < ids.endIndex {
            let chunk = ids[start..<min(start + 10_000, ids.endIndex)]
            let rows = try Row.fetchCursor(
                db, sql: "\(select) (\(databaseQuestionMarks(count: chunk.count))) \(suffix)", arguments: StatementArguments(Array(chunk)))
            while let row = try rows.next() { try body(row) }
            start = chunk.endIndex
        }
    }
}
