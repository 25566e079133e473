import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// The list in PostgreSQL as a send and a curation read it: readers a page at a time, and the
/// questions about the whole list answered in SQL.
public struct PostgresSubscriberStore: SubscriberList {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
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

    static let columns = "SELECT s.id, s.email, s.name, s.language, s.secret, s.status, s.schedule FROM subscriber s"

    /// The readers a query of ``columns`` selects, with the categories, interests and tastes of
    /// just those readers, all read in one transaction.
    private func read(_ query: PostgresQuery) async throws -> [Recipient] {
        try await database.pooledTransaction { connection in
            let rows = try await database.run(query, on: connection).map {
                try $0.decode((Int64, String, String?, String, String, String, String).self)
            }
            let ids = rows.map(\.0)
            var categories: [Int64: [String]] = [:]
            for row in try await database.run(
                "SELECT subscriber_id, category FROM subscriber_category WHERE subscriber_id = ANY(\(ids)) ORDER BY subscriber_id, position",
                on: connection)
            {
                let (id, category) = try row.decode((Int64, String).self)
                categories[id, default: []].append(category)
            }
            var interestLists: [Int64: [ReaderInterests.Kind: [String]]] = [:]
            for row in try await database.run(
                """
                SELECT subscriber_id, kind, phrase FROM subscriber_interest WHERE subscriber_id = ANY(\(ids))
                ORDER BY subscriber_id, kind, position
                """,
                on: connection)
            {
                let (id, kind, phrase) = try row.decode((Int64, String, String).self)
                guard let kind = ReaderInterests.Kind(rawValue: kind) else { continue }
                interestLists[id, default: [:]][kind, default: []].append(phrase)
            }
            let interests = try interestLists.mapValues {
                try ReaderInterests(interests: $0[.interest] ?? [], muted: $0[.muted] ?? [], authors: $0[.author] ?? [])
            }
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
