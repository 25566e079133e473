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
        let known = Set(
            try await database.run("SELECT email_key FROM subscriber WHERE email_key = ANY(\(keys))", on: connection)
                .compactMap { addressOf[try $0.decode(String.self)] })
        var report = ImportReport()
        var used = 0
        repeat {
            let row = rows[used]
            let stored = known.contains(row.email.key) ? try await stored(row.email, locked: true, database, connection) : nil
            let decision = try row.decision(
                current: stored.map { (status: SubscriberStatus(rawValue: $0.fields.status) ?? .paused, forgotten: $0.email == nil) },
                options: options, defaults: defaults)
            switch decision {
            case .add(let new):
                if try await insert(new, source: .import, kind: .imported, database, connection) != nil {
                    report.added.append(row.entry())
                } else {
                    report.existing.append(row.entry("added by another process during the import; left unchanged"))
                }
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
        return (report, used)
    }
}
