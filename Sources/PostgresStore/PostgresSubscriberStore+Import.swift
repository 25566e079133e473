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
        var edits: [PendingEdit] = []
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
                edits.append(PendingEdit(id: record.id, edit: try edit(change, of: record), address: record.email == nil ? row.email : nil))
                report.resubscribed.append(row.entry(note))
            case .update(let change):
                guard let record else { break }
                let changed = try edit(change, of: record)
                if changed.changed {
                    edits.append(PendingEdit(id: record.id, edit: changed, address: nil))
                    report.updated.append(row.entry())
                } else {
                    report.unchanged.append(row.entry())
                }
            }
            used += 1
        } while used < rows.count && ContinuousClock.now - started < ImportChunking.standard.duration
        try await write(edits, source: .import, now: now, database, connection)
        let added = try await insert(adds.map(\.new), source: .import, kind: .imported, now: now, database, connection)
        for (row, new) in adds {
            if added[new.email.key] != nil {
                report.added.append(row.entry())
            } else {
                report.existing.append(row.entry("added by another process during the import; left unchanged"))
            }
        }
        return (report, used)
    }
}
