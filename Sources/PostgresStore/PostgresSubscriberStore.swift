import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// The list in PostgreSQL: here as a send and a curation read it (readers a page at a time, the
/// questions about the whole list answered in SQL); its changes, as the web pages and the
/// `subscribers` commands make them, and its import are in the extensions beside this file.
public struct PostgresSubscriberStore: SubscriberList {
    let database: PostgresDatabase
    /// What an import takes for the columns a file leaves out, and how addresses compare.
    let settings: Settings

    public init(database: PostgresDatabase, settings: Settings = Settings()) {
        self.database = database
        self.settings = settings
    }

    public func recipients(after id: Int64, limit: Int, _ filter: RecipientFilter) async throws -> [Recipient] {
        var bindings = PostgresBindings()
        let condition = filter.postgresCondition(&bindings)
        bindings.append(id)
        bindings.append(Int64(max(0, limit)))
        return try await read(
            PostgresQuery(
                unsafeSQL: Self.columns + " WHERE \(condition) AND s.id > $\(bindings.count - 1) ORDER BY s.id LIMIT $\(bindings.count)",
                binds: bindings))
    }

    public func recipients(ids: [Int64], _ filter: RecipientFilter) async throws -> [Int64: Recipient] {
        guard !ids.isEmpty else { return [:] }
        var bindings = PostgresBindings()
        let condition = filter.postgresCondition(&bindings)
        bindings.append(ids)
        let found = try await read(
            PostgresQuery(unsafeSQL: Self.columns + " WHERE \(condition) AND s.id = ANY($\(bindings.count))", binds: bindings))
        return Dictionary(uniqueKeysWithValues: found.map { ($0.subscriberID, $0) })
    }

    public func count(_ filter: RecipientFilter) async throws -> Int {
        var bindings = PostgresBindings()
        let condition = filter.postgresCondition(&bindings)
        return try await database.pooledTransaction { connection in
            Int(
                try await database.run(
                    PostgresQuery(unsafeSQL: "SELECT count(*) FROM subscriber s WHERE \(condition)", binds: bindings), on: connection
                ).first?.decode(Int64.self) ?? 0)
        }
    }

    public func activeCategories() async throws -> [String] {
        try await database.pooledTransaction { connection in
            try await database.run(
                """
                SELECT c.category FROM subscriber_category c JOIN subscriber s ON s.id = c.subscriber_id
                WHERE s.status = 'active' GROUP BY c.category ORDER BY count(*) DESC, c.category COLLATE "C"
                """,
                on: connection
            ).map { try $0.decode(String.self) }
        }
    }

    public func activeLanguages() async throws -> [Language] {
        let used = try await database.pooledTransaction { connection in
            Set(try await database.run("SELECT DISTINCT language FROM subscriber WHERE status = 'active'", on: connection).map {
                try $0.decode(String.self)
            })
        }
        return Language.allCases.filter { used.contains($0.rawValue) }
    }

    public func editionDemand() async throws -> [EditionDemand] {
        // Grouped in the server: one row per distinct edition, never one per reader.
        let rows = try await database.pooledTransaction { connection in
            try await database.run(
                """
                SELECT categories, language, count(*) FROM (
                    SELECT s.language,
                        ARRAY(SELECT c.category FROM subscriber_category c WHERE c.subscriber_id = s.id ORDER BY c.category COLLATE "C") AS categories
                    FROM subscriber s
                    WHERE s.email IS NOT NULL AND s.status = 'active'
                    AND NOT EXISTS (SELECT 1 FROM subscriber_interest i WHERE i.subscriber_id = s.id)
                    AND NOT EXISTS (SELECT 1 FROM subscriber_taste t WHERE t.subscriber_id = s.id)
                ) editions GROUP BY categories, language
                """,
                on: connection
            ).map { try $0.decode(([String], String, Int64).self) }
        }
        return rows.map { EditionDemand(categories: $0.0, language: Language(rawValue: $0.1) ?? .en, readers: Int($0.2)) }
            .sorted { ($0.readers, $1.categories.joined(separator: " ")) > ($1.readers, $0.categories.joined(separator: " ")) }
    }

    public func subscribers(after id: Int64, limit: Int, status: SubscriberStatus?, category: String?) async throws -> [Subscriber] {
        try await database.pooledTransaction { connection in
            let rows = try await database.run(
                """
                SELECT s.id, s.email, s.name, s.language, s.status, s.bounce_count, s.bounce_score, s.created_at, s.confirmed_at,
                    s.unsubscribed_at, s.schedule
                FROM subscriber s WHERE s.id > \(id) AND (\(status?.rawValue)::text IS NULL OR s.status = \(status?.rawValue))
                AND (\(category)::text IS NULL OR s.id IN (SELECT subscriber_id FROM subscriber_category WHERE category = \(category)))
                ORDER BY s.id LIMIT \(Int64(max(0, limit)))
                """,
                on: connection
            ).map { try $0.decode((Int64, String?, String?, String, String, Int64, Double, Date, Date?, Date?, String).self) }
            let ids = rows.map(\.0)
            let categories = try await Self.categories(of: ids, database, connection)
            let interests = try await Self.interests(of: ids, database, connection)
            return rows.map { id, email, name, language, status, bounces, score, created, confirmed, unsubscribed, schedule in
                Subscriber(
                    id: id, email: email, name: name, language: Language(rawValue: language) ?? .en,
                    status: SubscriberStatus(rawValue: status) ?? .paused, categories: categories[id] ?? [], bounceCount: Int(bounces),
                    bounceScore: score, createdAt: created, confirmedAt: confirmed, unsubscribedAt: unsubscribed,
                    interests: interests[id] ?? .none, schedule: (try? Schedule(parsing: schedule)) ?? .daily)
            }
        }
    }

    public func stats() async throws -> SubscriberStats {
        try await database.pooledTransaction { connection in
            let statuses = Dictionary(
                uniqueKeysWithValues: try await database.run("SELECT status, count(*) FROM subscriber GROUP BY status", on: connection)
                    .map { try $0.decode((String, Int64).self) })
            let categories = try await database.run(
                """
                SELECT c.category, count(*) FROM subscriber_category c JOIN subscriber s ON s.id = c.subscriber_id
                WHERE s.status = 'active' GROUP BY c.category ORDER BY count(*) DESC, c.category COLLATE "C"
                """,
                on: connection
            ).map { try $0.decode((String, Int64).self) }
            let languages = Dictionary(
                uniqueKeysWithValues: try await database.run(
                    "SELECT language, count(*) FROM subscriber WHERE status = 'active' GROUP BY language", on: connection
                ).map { try $0.decode((String, Int64).self) })
            return SubscriberStats(
                byStatus: SubscriberStatus.allCases.map { ($0, Int(statuses[$0.rawValue] ?? 0)) },
                activeByCategory: categories.map { ($0.0, Int($0.1)) },
                activeByLanguage: Language.allCases.map { ($0, Int(languages[$0.rawValue] ?? 0)) })
        }
    }

    static let columns = "SELECT s.id, s.email, s.name, s.language, s.secret, s.status, s.schedule FROM subscriber s"

    /// The readers a query of ``columns`` selects, with the categories, interests and tastes of
    /// just those readers, all read in one transaction.
    private func read(_ query: PostgresQuery) async throws -> [Recipient] {
        try await database.pooledTransaction { connection in
            let rows = try await database.run(query, on: connection).map {
                try $0.decode((Int64, String, String?, String, String, String, String).self)
            }
            let ids = rows.map(\.0)
            let categories = try await Self.categories(of: ids, database, connection)
            let interests = try await Self.interests(of: ids, database, connection)
            var tastes: [Int64: TasteVector] = [:]
            for row in try await database.run(
                "SELECT subscriber_id, terms FROM subscriber_taste WHERE subscriber_id = ANY(\(ids))", on: connection)
            {
                let (id, json) = try row.decode((Int64, String).self)
                tastes[id] = (try? JSONDecoder().decode([String: Double].self, from: Data(json.utf8))).map(TasteVector.init)
            }
            return rows.map { id, email, name, language, secret, status, schedule in
                Recipient(
                    subscriberID: id, email: email, name: name, language: Language(rawValue: language) ?? .en,
                    categories: categories[id] ?? [], linkSecret: secret, status: SubscriberStatus(rawValue: status) ?? .paused,
                    interests: interests[id] ?? .none, taste: tastes[id] ?? TasteVector(),
                    schedule: (try? Schedule(parsing: schedule)) ?? .daily)
            }
        }
    }
}

extension PostgresSubscriberStore {
    /// Categories by subscriber, in each one's own order.
    static func categories(of ids: [Int64], _ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> [Int64: [String]] {
        var categories: [Int64: [String]] = [:]
        for row in try await database.run(
            "SELECT subscriber_id, category FROM subscriber_category WHERE subscriber_id = ANY(\(ids)) ORDER BY subscriber_id, position",
            on: connection)
        {
            let (id, category) = try row.decode((Int64, String).self)
            categories[id, default: []].append(category)
        }
        return categories
    }

    /// Interests by subscriber; subscribers without any are absent.
    static func interests(of ids: [Int64], _ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> [Int64: ReaderInterests] {
        var lists: [Int64: [ReaderInterests.Kind: [String]]] = [:]
        for row in try await database.run(
            """
            SELECT subscriber_id, kind, phrase FROM subscriber_interest WHERE subscriber_id = ANY(\(ids))
            ORDER BY subscriber_id, kind, position
            """,
            on: connection)
        {
            let (id, kind, phrase) = try row.decode((Int64, String, String).self)
            guard let kind = ReaderInterests.Kind(rawValue: kind) else { continue }
            lists[id, default: [:]][kind, default: []].append(phrase)
        }
        return try lists.mapValues { try ReaderInterests(interests: $0[.interest] ?? [], muted: $0[.muted] ?? [], authors: $0[.author] ?? []) }
    }
}

extension RecipientFilter {
    /// The filter's `WHERE` clause on `subscriber s`, its values appended to `bindings`.
    func postgresCondition(_ bindings: inout PostgresBindings) -> String {
        func parameter(_ append: (inout PostgresBindings) -> Void) -> String {
            append(&bindings)
            return "$\(bindings.count)"
        }
        var sql = "s.email IS NOT NULL AND s.status = ANY(\(parameter { $0.append(statuses.map(\.rawValue)) }))"
        if let schedules {
            sql += " AND s.schedule = ANY(\(parameter { $0.append(schedules.map(\.description)) }))"
        }
        if personal {
            sql += """
                 AND (EXISTS (SELECT 1 FROM subscriber_interest i WHERE i.subscriber_id = s.id)
                 OR EXISTS (SELECT 1 FROM subscriber_taste t WHERE t.subscriber_id = s.id))
                """
        }
        if let id {
            sql += " AND s.id = \(parameter { $0.append(id) })"
        }
        if let address {
            sql += " AND s.email_key = \(parameter { $0.append(address.key) })"
        }
        return sql
    }
}
