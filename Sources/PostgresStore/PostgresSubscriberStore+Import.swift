import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

extension PostgresSubscriberStore {
    /// Imports subscribers from a CSV file as ``SubscriberStore`` does on SQLite: every row
    /// checked first into a staging file (in the temporary directory: `TMPDIR`), then written
    /// in short transactions, each row an upsert decided by the same rules, so that an
    /// interrupted import finishes when run again.
    public func importCSV(
        contentsOf url: URL, file: String, options: ImportOptions, progress: (@Sendable (ImportProgress) async -> Void)?
    ) async throws -> ImportReport {
        let stream = try ImportDriver.stream(url, file: file)
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("paperpost").path
        return try await ImportDriver(file: file, options: options, chunking: .standard, progress: progress).run(
            stream, caseSensitiveLocalPart: settings.caseSensitiveLocalPart, stagingBeside: staging
        ) { [settings] rows in
            do {
                return try await database.pooledTransaction { connection in
                    let written = try await Self.importChunk(rows, options: options, defaults: settings, database, connection)
                    // A dry run goes through the same transaction and rolls it back.
                    if options.dryRun { throw DryRun(report: written.report, used: written.used) }
                    return written
                }
            } catch let dryRun as DryRun {
                return (dryRun.report, dryRun.used)
            }
        }
    }

    /// What a dry run's transaction did, thrown to roll it back.
    private struct DryRun: Error {
        var report: ImportReport
        var used: Int
    }

    private static func importChunk(
        _ rows: [ImportRow], options: ImportOptions, defaults: Settings, _ database: PostgresDatabase, _ connection: PostgresConnection
    ) async throws -> (report: ImportReport, used: Int) {
        let started = ContinuousClock.now
        // Most rows of a large import are new, and most known ones are left as they are or
        // unchanged: what decides that is read for the whole transaction in a few queries, and
        // only a row that changes is written on its own.
        let keys = rows.flatMap { [$0.email.key, SubscriberKeys.forgotten($0.email.key)] }
        var addressOf: [String: String] = [:]
        for row in rows {
            addressOf[row.email.key] = row.email.key
            addressOf[SubscriberKeys.forgotten(row.email.key)] = row.email.key
        }
        var ids: [String: Int64] = [:]
        for found in try await database.run("SELECT email_key, id FROM subscriber WHERE email_key = ANY(\(keys))", on: connection) {
            let (key, id) = try found.decode((String, Int64).self)
            if let address = addressOf[key] { ids[address] = id }
        }
        var stored: [Int64: StoredRow] = [:]
        var known = PostgresBindings()
        known.append(Array(ids.values))
        for found in try await database.run(
            PostgresQuery(unsafeSQL: storedColumns + " WHERE id = ANY($1) ORDER BY id FOR UPDATE", binds: known), on: connection)
        {
            let row = try StoredRow(found)
            stored[row.id] = row
        }
        let storedIDs = Array(stored.keys)
        let categories = try await categories(of: storedIDs, database, connection)
        let interests = try await interests(of: storedIDs, database, connection)

        var report = ImportReport()
        var used = 0
        let now = Date()
        // New addresses and changes are written together at the end, a few statements for all.
        var adds: [(row: ImportRow, new: NewSubscriber)] = []
        var edits: [ImportEdit] = []
        repeat {
            let row = rows[used]
            let record = ids[row.email.key].flatMap { stored[$0] }
            let decision = try row.decision(
                current: record.map { (status: SubscriberStatus(rawValue: $0.fields.status) ?? .paused, forgotten: $0.email == nil) },
                options: options, defaults: defaults)
            func edit(_ change: SubscriberChange, of record: StoredRow) throws -> SubscriberEdit {
                try SubscriberEdit(
                    change, on: record.fields, categories: change.touchesCategories ? categories[record.id] ?? [] : nil,
                    interests: change.interests.isEmpty ? nil : interests[record.id] ?? ReaderInterests.none, now: now)
            }
            switch decision {
            case .add(let new):
                adds.append((row, new))
            case .leave(let suppressed, let note):
                if suppressed { report.suppressed.append(row.entry(note)) } else { report.existing.append(row.entry(note)) }
            case .resubscribe(let change, let note):
                guard let record else { break }
                edits.append(ImportEdit(id: record.id, edit: try edit(change, of: record), address: record.email == nil ? row.email : nil))
                report.resubscribed.append(row.entry(note))
            case .update(let change):
                guard let record else { break }
                let changed = try edit(change, of: record)
                if changed.changed {
                    edits.append(ImportEdit(id: record.id, edit: changed, address: nil))
                    report.updated.append(row.entry())
                } else {
                    report.unchanged.append(row.entry())
                }
            }
            used += 1
        } while used < rows.count && ContinuousClock.now - started < ImportChunking.standard.duration
        try await write(edits, source: .import, now: now, database, connection)
        let added = try await insert(adds.map(\.new), source: .import, kind: .imported, database, connection)
        for (row, new) in adds {
            if added.contains(new.email.key) {
                report.added.append(row.entry())
            } else {
                report.existing.append(row.entry("added by another process during the import; left unchanged"))
            }
        }
        return (report, used)
    }

    /// A known subscriber's change, worked out; `address` gives a forgotten one their address back.
    private struct ImportEdit {
        var id: Int64
        var edit: SubscriberEdit
        var address: EmailAddress?
    }

    /// Writes many subscribers' changes in one statement per table, as ``apply(_:to:source:_:_:)``
    /// writes one.
    private static func write(
        _ edits: [ImportEdit], source: SubscriberEvent.Source, now: Date, _ database: PostgresDatabase, _ connection: PostgresConnection
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

    /// Adds many subscribers, with their categories, interests and first events, in one
    /// statement per table (`unnest` of one array per column).
    ///
    /// - Returns: the keys of the addresses added; one another transaction added first is not.
    private static func insert(
        _ news: [NewSubscriber], source: SubscriberEvent.Source, kind: SubscriberEvent.Kind, _ database: PostgresDatabase,
        _ connection: PostgresConnection
    ) async throws -> Set<String> {
        guard !news.isEmpty else { return [] }
        let now = Date()
        let inserted = try await database.run(
            """
            INSERT INTO subscriber (email, email_key, name, language, status, secret, bounce_count, bounce_score, created_at,
                confirmed_at, unsubscribed_at, updated_at, schedule)
            SELECT email, key, CASE WHEN named THEN name END, language, status, secret, 0, 0, \(now),
                CASE WHEN status IN ('active', 'paused') THEN \(now) END, CASE WHEN status = 'unsubscribed' THEN \(now) END, \(now), schedule
            FROM unnest(\(news.map(\.email.value))::text[], \(news.map(\.email.key))::text[], \(news.map { $0.name ?? "" })::text[],
                \(news.map { $0.name != nil })::boolean[], \(news.map(\.language.rawValue))::text[], \(news.map(\.status.rawValue))::text[],
                \(news.map { _ in SubscriberKeys.newSecret() })::text[], \(news.map(\.schedule.description))::text[])
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
        return Set(ids.keys)
    }
}
