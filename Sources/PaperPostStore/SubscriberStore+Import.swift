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

    /// Counts `count` rows and lists those of `listing` there is room for (the first of them).
    mutating func append(listing: [Element], of count: Int) {
        self.count += count
        listed += listing.prefix(Self.limit - listed.count)
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
    /// …and no longer than about this, so that nobody else waits behind one for much longer,
    /// however slow the machine: a transaction that adds rows one by one stops taking more
    /// once it has taken this long; one that adds them in bulk sizes the next by the last one's pace.
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
        let driver = ImportDriver(file: file, options: options, chunking: chunking, progress: progress)
        let writer = StagedImport(options: options, defaults: settings)
        return try await driver.staged(stream, caseSensitiveLocalPart: settings.caseSensitiveLocalPart, stagingBeside: database.writer.path) {
            staging, total in
            var after = 0
            var listed = 0
            // A transaction is one statement per table, which cannot stop when it has taken
            // long enough: the next one takes as many rows as the last one's pace fits in that
            // time. (Aiming at half of it made an import of addresses in random order, whose
            // transactions slow down as the address index grows, take 100 s instead of 88.)
            var limit = chunking.rows
            return try await driver.applyInTransactions(total: total) {
                let started = ContinuousClock.now
                let chunk = try await database.writer.writeWithoutTransaction { [after, limit, listed] db in
                    try db.execute(sql: "ATTACH DATABASE ? AS \(StagedImport.schema)", arguments: [staging.path])
                    db.add(function: StagedImport.forgottenKey)
                    defer {
                        db.remove(function: StagedImport.forgottenKey)
                        try? db.execute(sql: "DETACH DATABASE \(StagedImport.schema)")
                    }
                    return try writer.apply(db, after: after, limit: limit, listing: ListedRows<ImportReport.Entry>.limit - listed)
                }
                let took = ContinuousClock.now - started
                after = chunk.last
                listed += chunk.report.added.listed.count
                limit = max(1, min(chunking.rows, Int(Double(chunk.used) * (chunking.duration / took))))
                return (chunk.report, chunk.used)
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
