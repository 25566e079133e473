import Foundation
import GRDB
import PaperPostCore

/// How an import treats what the database already has.
public struct ImportOptions: Sendable, Hashable {
    /// Check and report, write nothing.
    public var dryRun = false
    /// Change name, categories, language and status of known addresses to what the file says.
    public var updateExisting = false
    /// Import the valid rows even if some are invalid (those are listed).
    public var skipInvalid = false
    /// Let the file re-activate unsubscribed or bounced addresses. Only for people who asked.
    public var resubscribe = false

    public init(dryRun: Bool = false, updateExisting: Bool = false, skipInvalid: Bool = false, resubscribe: Bool = false) {
        self.dryRun = dryRun
        self.updateExisting = updateExisting
        self.skipInvalid = skipInvalid
        self.resubscribe = resubscribe
    }
}

/// Rows of one kind: how many there were, and the first ``limit`` of them to show. A list of
/// a million subscribers is reported without holding a million entries.
public struct ListedRows<Element: Sendable>: Sendable {
    public static var limit: Int { 1_000 }

    public private(set) var count = 0
    public private(set) var listed: [Element] = []
    /// Rows counted but not listed.
    public var unlisted: Int { count - listed.count }
    public var isEmpty: Bool { count == 0 }

    public init() {}

    package mutating func append(_ element: Element) {
        count += 1
        if listed.count < Self.limit { listed.append(element) }
    }

    mutating func append(_ other: ListedRows) {
        count += other.count
        listed += other.listed.prefix(Self.limit - listed.count)
    }
}

/// What an import did (or, for a dry run, would do), address by address.
public struct ImportReport: Sendable {
    public struct Entry: Sendable, Hashable {
        public var line: Int
        public var email: String
        public var note: String?
    }

    public var added = ListedRows<Entry>()
    public var updated = ListedRows<Entry>()
    public var unchanged = ListedRows<Entry>()
    /// Known addresses left alone because `updateExisting` was off.
    public var existing = ListedRows<Entry>()
    /// Unsubscribed or bounced addresses that the file did not re-activate.
    public var suppressed = ListedRows<Entry>()
    public var resubscribed = ListedRows<Entry>()
    /// Invalid rows skipped under `skipInvalid`.
    public var invalid = ListedRows<ImportProblem>()
    public var dryRun = false

    package init() {}

    package mutating func append(_ other: ImportReport) {
        added.append(other.added)
        updated.append(other.updated)
        unchanged.append(other.unchanged)
        existing.append(other.existing)
        suppressed.append(other.suppressed)
        resubscribed.append(other.resubscribed)
    }
}

/// How far an import's writing has got, reported after each of its transactions.
public struct ImportProgress: Sendable, Hashable {
    /// Rows written so far (for a dry run: checked against the database).
    public var applied: Int
    /// Valid rows in the file.
    public var total: Int
}

/// An import that stopped part-way through writing (the disk filled up, say), after every
/// row had been checked. The rows written so far stay; running the same import again
/// finishes it (see ``SubscriberStore/importCSV(_:file:options:progress:)``).
public struct ImportInterrupted: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var applied: Int
    public var total: Int
    public var reason: String

    public var description: String {
        "\(file): the import stopped after writing \(applied) of \(total) rows: \(reason). "
            + "Run the same import again to finish it: the rows already written are found on the list and left as they are"
    }
}

/// How an import cuts its writing into transactions.
package struct ImportChunking: Sendable {
    /// At most this many rows in one transaction…
    var rows: Int
    /// …and no more rows once a transaction has taken this long, so that nobody else waits
    /// behind one for much longer, however slow the machine.
    package var duration: Duration
    /// Time left between two transactions for whoever is waiting to write (they try again
    /// every ``PaperPostDatabase/busyRetryInterval``).
    var pause: Duration

    package static let standard = ImportChunking(rows: 5_000, duration: .milliseconds(250), pause: .milliseconds(10))
}

extension SubscriberStore {
    /// Imports subscribers from CSV: every row is read and checked first, then written in short
    /// transactions, so that the web server (a one-click unsubscribe) and a running `send` wait
    /// at most a fraction of a second while a large file goes in, not for the whole import.
    ///
    /// When any row is invalid (and `skipInvalid` is off) nothing is written. Once the rows are
    /// valid, writing can still fail part-way (a full disk, a killed process): the transactions
    /// committed by then stay, and ``ImportInterrupted`` says how far it got. That is safe
    /// because the import is idempotent: every row is an upsert decided against what the
    /// database holds when its transaction runs (a new address is added; a known one is left
    /// alone or updated to the file's values), so running the same import again adds what is
    /// missing, finds the rows already written on the list (reported as existing, or with
    /// `updateExisting` as unchanged) and changes nothing about them, and ends in the state
    /// one uninterrupted run gives. Undoing the committed rows instead would
    /// race with everything the server and `send` did meanwhile (an unsubscribe of an imported
    /// address must never be rolled back). Rows are independent (the file may name an address
    /// once), so where the transactions are cut changes nothing but timing.
    ///
    /// A dry run goes through the same transactions and rolls each back.
    ///
    /// - Parameters:
    ///   - file: the name used in `FILE:LINE` messages.
    ///   - progress: called after each transaction, outside it, with what is done so far.
    /// - Throws: ``ImportError`` with every problem found, the database unchanged; or
    ///   ``ImportInterrupted`` when writing failed part-way.
    public func importCSV(
        _ data: Data, file: String, options: ImportOptions, progress: (@Sendable (ImportProgress) async -> Void)? = nil
    ) async throws -> ImportReport {
        try await importCSV(InputStream(data: data), file: file, options: options, chunking: .standard, progress: progress)
    }

    /// Imports a CSV file read as it goes (see ``importCSV(_:file:options:progress:)``): memory
    /// does not grow with the file.
    public func importCSV(
        contentsOf url: URL, file: String, options: ImportOptions, progress: (@Sendable (ImportProgress) async -> Void)? = nil
    ) async throws -> ImportReport {
        try await importCSV(try ImportDriver.stream(url, file: file), file: file, options: options, chunking: .standard, progress: progress)
    }

    func importCSV(
        _ data: Data, file: String, options: ImportOptions, chunking: ImportChunking,
        progress: (@Sendable (ImportProgress) async -> Void)?
    ) async throws -> ImportReport {
        try await importCSV(InputStream(data: data), file: file, options: options, chunking: chunking, progress: progress)
    }

    func importCSV(
        _ stream: InputStream, file: String, options: ImportOptions, chunking: ImportChunking,
        progress: (@Sendable (ImportProgress) async -> Void)?
    ) async throws -> ImportReport {
        try await ImportDriver(file: file, options: options, chunking: chunking, progress: progress).run(
            stream, caseSensitiveLocalPart: settings.caseSensitiveLocalPart, stagingBeside: database.writer.path
        ) { [settings] rows in
            try await database.writer.writeWithoutTransaction { db in
                var report = ImportReport()
                var used = 0
                try db.inTransaction(.immediate) {
                    let started = ContinuousClock.now
                    let known = try Self.knownKeys(rows, db)
                    let now = Date()
                    var children = ChildRows()
                    repeat {
                        try Self.importRow(
                            rows[used], db, known: known, now: now, children: &children, options: options, defaults: settings, into: &report)
                        used += 1
                    } while used < rows.count && ContinuousClock.now - started < chunking.duration
                    try children.write(db)
                    return options.dryRun ? .rollback : .commit
                }
                return (report, used)
            }
        }
    }

    /// The keys of these rows' addresses that the list already has (as they are, or
    /// forgotten), in one query: most rows of a large import are new, and looking each one up
    /// was a tenth of the import's time. A list nobody was forgotten from (one look at the
    /// index) spares every row's SHA-256 of its forgotten key.
    private static func knownKeys(_ rows: [ImportRow], _ db: Database) throws -> Set<String> {
        let anyForgotten = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM subscriber WHERE email_key >= 'sha256:' AND email_key < 'sha256;')")) ?? true
        var known: Set<String> = []
        var start = rows.startIndex
        while start < rows.endIndex {
            let chunk = rows[start..<min(start + 5_000, rows.endIndex)]
            var keys = chunk.map(\.email.key)
            // A forgotten key found names the address it was made from.
            var addressOf: [String: String] = [:]
            if anyForgotten {
                for row in chunk {
                    let forgotten = SubscriberRecord.forgottenKey(for: row.email.key)
                    keys.append(forgotten)
                    addressOf[forgotten] = row.email.key
                }
            }
            let found = try String.fetchAll(
                db, sql: "SELECT email_key FROM subscriber WHERE email_key IN (\(databaseQuestionMarks(count: keys.count)))",
                arguments: StatementArguments(keys))
            known.formUnion(found.map { addressOf[$0] ?? $0 })
            start = chunk.endIndex
        }
        return known
    }

    private static func importRow(
        _ row: ImportRow, _ db: Database, known: Set<String>, now: Date, children: inout ChildRows, options: ImportOptions, defaults: Settings,
        into report: inout ImportReport
    ) throws {
        let stored = known.contains(row.email.key) ? try record(db, for: row.email) : nil
        let decision = try row.decision(
            current: stored.map { (status: SubscriberStatus(rawValue: $0.status) ?? .paused, forgotten: $0.email == nil) }, options: options,
            defaults: defaults)
        switch decision {
        case .add(let new):
            _ = try insert(db, new, source: .import, kind: .imported, now: now, into: &children)
            report.added.append(row.entry())
        case .leave(let suppressed, let note):
            if suppressed { report.suppressed.append(row.entry(note)) } else { report.existing.append(row.entry(note)) }
        case .resubscribe(let change, let note):
            guard var record = stored else { return }
            if record.email == nil {
                record.email = row.email.value
                record.emailKey = row.email.key
                try record.update(db)
            }
            try apply(change, to: &record, db, source: .import)
            report.resubscribed.append(row.entry(note))
        case .update(let change):
            guard var record = stored else { return }
            if try apply(change, to: &record, db, source: .import) {
                report.updated.append(row.entry())
            } else {
                report.unchanged.append(row.entry())
            }
        }
    }

    public func exportRows(after id: Int64, limit: Int) async throws -> [ExportedSubscriber] {
        try await database.read { db in
            // The export's own columns read by position: decoding whole records (their dates
            // parsed) was most of the time of exporting a large list.
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT id, email, name, language, status, schedule FROM subscriber WHERE id > ? AND email IS NOT NULL ORDER BY id LIMIT ?",
                arguments: [id, limit])
            let ids = rows.map { $0[0] as Int64 }
            let categories = try Self.categories(db, of: ids)
            let interests = try Self.interests(db, of: ids)
            return rows.map { row in
                let id: Int64 = row[0]
                return ExportedSubscriber(
                    id: id, email: row[1], name: row[2], language: row[3], status: row[4], schedule: row[5], categories: categories[id] ?? [],
                    interests: interests[id] ?? .none)
            }
        }
    }
}
