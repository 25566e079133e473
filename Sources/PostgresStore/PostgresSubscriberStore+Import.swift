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
        // Most rows of a large import are new: the known ones are found in one query.
        let keys = rows.flatMap { [$0.email.key, SubscriberKeys.forgotten($0.email.key)] }
        var addressOf: [String: String] = [:]
        for row in rows {
            addressOf[row.email.key] = row.email.key
            addressOf[SubscriberKeys.forgotten(row.email.key)] = row.email.key
        }
        // Most rows of a large import are new, and most known ones are left as they are: what
        // decides that is read for the whole chunk in one query, and a row is read (and locked)
        // on its own only when it is to change.
        var known: [String: (status: SubscriberStatus, forgotten: Bool)] = [:]
        for found in try await database.run(
            "SELECT email_key, status, email IS NULL FROM subscriber WHERE email_key = ANY(\(keys)) FOR UPDATE", on: connection)
        {
            let (key, status, forgotten) = try found.decode((String, String, Bool).self)
            if let address = addressOf[key] { known[address] = (SubscriberStatus(rawValue: status) ?? .paused, forgotten) }
        }
        var report = ImportReport()
        var used = 0
        // New addresses are written together at the end, a few statements for all of them.
        var adds: [(row: ImportRow, new: NewSubscriber)] = []
        repeat {
            let row = rows[used]
            let decision = try row.decision(current: known[row.email.key], options: options, defaults: defaults)
            var stored: StoredRow?
            switch decision {
            case .resubscribe, .update: stored = try await Self.stored(row.email, locked: true, database, connection)
            case .add, .leave: break
            }
            switch decision {
            case .add(let new):
                adds.append((row, new))
            case .leave(let suppressed, let note):
                if suppressed { report.suppressed.append(row.entry(note)) } else { report.existing.append(row.entry(note)) }
            case .resubscribe(let change, let note):
                guard var record = stored else { break }
                if record.email == nil {
                    try await database.run(
                        "UPDATE subscriber SET email = \(row.email.value), email_key = \(row.email.key) WHERE id = \(record.id)", on: connection)
                    record.email = row.email.value
                }
                try await apply(change, to: &record, source: .import, database, connection)
                report.resubscribed.append(row.entry(note))
            case .update(let change):
                guard var record = stored else { break }
                if try await apply(change, to: &record, source: .import, database, connection) {
                    report.updated.append(row.entry())
                } else {
                    report.unchanged.append(row.entry())
                }
            }
            used += 1
        } while used < rows.count && ContinuousClock.now - started < ImportChunking.standard.duration
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
