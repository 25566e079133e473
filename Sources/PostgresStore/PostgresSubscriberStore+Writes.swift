import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// The two ways the list is written in PostgreSQL, shared by one reader's change on the web or
/// the CLI and a transaction of an import: new subscribers, and changes to known ones.
extension PostgresSubscriberStore {
    /// A known subscriber's change, worked out; `address` gives a forgotten one their address back.
    struct PendingEdit {
        var id: Int64
        var edit: SubscriberEdit
        var address: EmailAddress?
    }

    /// Writes subscribers' changes, worked out by ``SubscriberEdit``, in one statement per table
    /// however many there are: one for a web change, a transaction's worth for an import.
    static func write(
        _ edits: [PendingEdit], source: SubscriberEvent.Source, now: Date, _ database: PostgresDatabase, _ connection: PostgresConnection
    ) async throws {
        let changed = edits.filter { $0.edit.changed || $0.address != nil }
        guard !changed.isEmpty else { return }
        let given = changed.filter { $0.address != nil }
        if !given.isEmpty {
            try await database.run(
                """
                UPDATE subscriber s SET email = given.email, email_key = given.key
                FROM unnest(\(given.map(\.id))::bigint[], \(given.map { $0.address?.value ?? "" })::text[], \(given.map { $0.address?.key ?? "" })::text[])
                    AS given (id, email, key)
                WHERE s.id = given.id
                """,
                on: connection)
        }
        let fields = changed.map(\.edit.fields)
        let never = Date(timeIntervalSince1970: 0)
        try await database.run(
            """
            UPDATE subscriber s SET name = CASE WHEN given.named THEN given.name END, language = given.language, status = given.status,
                schedule = given.schedule, confirmed_at = CASE WHEN given.confirmed THEN given.confirmed_at END,
                unsubscribed_at = CASE WHEN given.unsubscribed THEN given.unsubscribed_at END, updated_at = \(now)
            FROM unnest(\(changed.map(\.id))::bigint[], \(fields.map { $0.name ?? "" })::text[], \(fields.map { $0.name != nil })::boolean[],
                \(fields.map(\.language))::text[], \(fields.map(\.status))::text[], \(fields.map(\.schedule))::text[],
                \(fields.map { $0.confirmedAt ?? never })::timestamptz[], \(fields.map { $0.confirmedAt != nil })::boolean[],
                \(fields.map { $0.unsubscribedAt ?? never })::timestamptz[], \(fields.map { $0.unsubscribedAt != nil })::boolean[])
                AS given (id, name, named, language, status, schedule, confirmed_at, confirmed, unsubscribed_at, unsubscribed)
            WHERE s.id = given.id
            """,
            on: connection)

        let recategorised = changed.filter { $0.edit.categories != nil }
        if !recategorised.isEmpty {
            try await database.run("DELETE FROM subscriber_category WHERE subscriber_id = ANY(\(recategorised.map(\.id)))", on: connection)
            var rows: (ids: [Int64], codes: [String], positions: [Int64]) = ([], [], [])
            for change in recategorised {
                for (position, code) in (change.edit.categories ?? []).enumerated() {
                    rows.ids.append(change.id)
                    rows.codes.append(code)
                    rows.positions.append(Int64(position))
                }
            }
            try await database.run(
                """
                INSERT INTO subscriber_category (subscriber_id, category, position)
                SELECT * FROM unnest(\(rows.ids)::bigint[], \(rows.codes)::text[], \(rows.positions)::bigint[])
                """,
                on: connection)
        }

        var lists: (ids: [Int64], kinds: [String]) = ([], [])
        var phrases: (ids: [Int64], kinds: [String], phrases: [String], positions: [Int64]) = ([], [], [], [])
        for change in changed {
            for (kind, entries) in change.edit.interests {
                lists.ids.append(change.id)
                lists.kinds.append(kind.rawValue)
                for (position, phrase) in entries.enumerated() {
                    phrases.ids.append(change.id)
                    phrases.kinds.append(kind.rawValue)
                    phrases.phrases.append(phrase)
                    phrases.positions.append(Int64(position))
                }
            }
        }
        if !lists.ids.isEmpty {
            try await database.run(
                """
                DELETE FROM subscriber_interest i USING unnest(\(lists.ids)::bigint[], \(lists.kinds)::text[]) AS given (id, kind)
                WHERE i.subscriber_id = given.id AND i.kind = given.kind
                """,
                on: connection)
            try await database.run(
                """
                INSERT INTO subscriber_interest (subscriber_id, kind, phrase, position)
                SELECT * FROM unnest(\(phrases.ids)::bigint[], \(phrases.kinds)::text[], \(phrases.phrases)::text[], \(phrases.positions)::bigint[])
                """,
                on: connection)
        }

        var events: (ids: [Int64], kinds: [String], details: [String], detailed: [Bool]) = ([], [], [], [])
        for change in changed {
            for event in change.edit.events {
                events.ids.append(change.id)
                events.kinds.append(event.kind.rawValue)
                events.details.append(event.detail ?? "")
                events.detailed.append(event.detail != nil)
            }
        }
        try await database.run(
            """
            INSERT INTO subscriber_event (subscriber_id, kind, source, detail, created_at)
            SELECT id, kind, \(source.rawValue), CASE WHEN detailed THEN detail END, \(now)
            FROM unnest(\(events.ids)::bigint[], \(events.kinds)::text[], \(events.details)::text[], \(events.detailed)::boolean[])
                AS given (id, kind, detail, detailed)
            """,
            on: connection)
    }

    /// Adds subscribers, with their categories, interests and first events, in one statement per
    /// table (`unnest` of one array per column) however many there are.
    ///
    /// - Returns: the ids of the addresses added, by key; one another transaction added first is
    ///   not there.
    static func insert(
        _ news: [NewSubscriber], source: SubscriberEvent.Source, kind: SubscriberEvent.Kind, now: Date, _ database: PostgresDatabase,
        _ connection: PostgresConnection
    ) async throws -> [String: Int64] {
        guard !news.isEmpty else { return [:] }
        let inserted = try await database.run(
            """
            INSERT INTO subscriber (email, email_key, name, language, status, secret, bounce_count, bounce_score, created_at,
                confirmed_at, unsubscribed_at, updated_at, schedule)
            SELECT email, key, CASE WHEN named THEN name END, language, status, secret, 0, 0, \(now),
                CASE WHEN status IN ('active', 'paused') THEN \(now) END, CASE WHEN status = 'unsubscribed' THEN \(now) END, \(now), schedule
            FROM unnest(\(news.map(\.email.value))::text[], \(news.map(\.email.key))::text[], \(news.map { $0.name ?? "" })::text[],
                \(news.map { $0.name != nil })::boolean[], \(news.map(\.language.rawValue))::text[], \(news.map(\.status.rawValue))::text[],
                \(SubscriberKeys.newSecrets(news.count))::text[], \(news.map(\.schedule.description))::text[])
                AS given (email, key, name, named, language, status, secret, schedule)
            ON CONFLICT (email_key) DO NOTHING RETURNING id, email_key
            """,
            on: connection)
        var ids: [String: Int64] = [:]
        for row in inserted {
            let (id, key) = try row.decode((Int64, String).self)
            ids[key] = id
        }
        var categories: (ids: [Int64], codes: [String], positions: [Int64]) = ([], [], [])
        var interests: (ids: [Int64], kinds: [String], phrases: [String], positions: [Int64]) = ([], [], [], [])
        var events: (ids: [Int64], details: [String]) = ([], [])
        for new in news {
            guard let id = ids[new.email.key] else { continue }
            for (position, code) in new.categories.enumerated() {
                categories.ids.append(id)
                categories.codes.append(code)
                categories.positions.append(Int64(position))
            }
            for kind in ReaderInterests.Kind.allCases {
                for (position, phrase) in new.interests[kind].enumerated() {
                    interests.ids.append(id)
                    interests.kinds.append(kind.rawValue)
                    interests.phrases.append(phrase)
                    interests.positions.append(Int64(position))
                }
            }
            events.ids.append(id)
            events.details.append(new.addedDetail)
        }
        try await database.run(
            """
            INSERT INTO subscriber_category (subscriber_id, category, position)
            SELECT * FROM unnest(\(categories.ids)::bigint[], \(categories.codes)::text[], \(categories.positions)::bigint[])
            """,
            on: connection)
        if !interests.ids.isEmpty {
            try await database.run(
                """
                INSERT INTO subscriber_interest (subscriber_id, kind, phrase, position)
                SELECT * FROM unnest(\(interests.ids)::bigint[], \(interests.kinds)::text[], \(interests.phrases)::text[], \(interests.positions)::bigint[])
                """,
                on: connection)
        }
        try await database.run(
            """
            INSERT INTO subscriber_event (subscriber_id, kind, source, detail, created_at)
            SELECT id, \(kind.rawValue), \(source.rawValue), detail, \(now) FROM unnest(\(events.ids)::bigint[], \(events.details)::text[]) AS given (id, detail)
            """,
            on: connection)
        return ids
    }
}
