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

/// What an import did (or, for a dry run, would do), address by address.
public struct ImportReport: Sendable {
    public struct Entry: Sendable, Hashable {
        public var line: Int
        public var email: String
        public var note: String?
    }

    public var added: [Entry] = []
    public var updated: [Entry] = []
    public var unchanged: [Entry] = []
    /// Known addresses left alone because `updateExisting` was off.
    public var existing: [Entry] = []
    /// Unsubscribed or bounced addresses that the file did not re-activate.
    public var suppressed: [Entry] = []
    public var resubscribed: [Entry] = []
    /// Invalid rows skipped under `skipInvalid`.
    public var invalid: [ImportProblem] = []
    public var dryRun = false
}

extension SubscriberStore {
    /// Imports subscribers from CSV in one transaction: either every valid row goes in, or
    /// (when any row is invalid and `skipInvalid` is off, or on a dry run) nothing does.
    ///
    /// - Parameter file: the name used in `FILE:LINE` messages.
    /// - Throws: ``ImportError`` with every problem found; the database is unchanged.
    public func importCSV(_ data: Data, file: String, options: ImportOptions) async throws -> ImportReport {
        let (rows, problems) = try SubscriberCSVReader.read(data, file: file, caseSensitiveLocalPart: settings.caseSensitiveLocalPart)
        if !problems.isEmpty && !options.skipInvalid {
            throw ImportError.invalidRows(problems)
        }
        let defaults = settings
        var report = try await database.writer.writeWithoutTransaction { db in
            var report = ImportReport()
            try db.inTransaction {
                for row in rows {
                    try Self.importRow(row, db, options: options, defaults: defaults, into: &report)
                }
                return options.dryRun ? .rollback : .commit
            }
            return report
        }
        report.invalid = problems
        report.dryRun = options.dryRun
        return report
    }

    private static func importRow(
        _ row: ImportRow, _ db: Database, options: ImportOptions, defaults: Settings, into report: inout ImportReport
    ) throws {
        func entry(_ note: String? = nil) -> ImportReport.Entry {
            ImportReport.Entry(line: row.line, email: row.email.value, note: note)
        }
        guard var record = try record(db, for: row.email) else {
            let new = NewSubscriber(
                email: row.email, name: row.name, categories: row.categories ?? defaults.defaultCategories,
                language: row.language ?? defaults.defaultLanguage, status: row.status ?? .active)
            _ = try insert(db, new, source: .import, kind: .imported)
            report.added.append(entry())
            return
        }
        let current = SubscriberStatus(rawValue: record.status) ?? .paused
        let change = SubscriberChange(
            name: row.hasName ? (row.name ?? "") : nil, categories: row.categories,
            language: row.language, status: row.status)

        if current.isSuppressed || record.email == nil {
            let wanted = row.status ?? .active
            guard options.resubscribe, !wanted.isSuppressed else {
                report.suppressed.append(entry("\(current.rawValue); not re-activated (use --resubscribe if they asked to come back)"))
                return
            }
            if record.email == nil {
                record.email = row.email.value
                record.emailKey = row.email.key
                try record.update(db)
            }
            try apply(SubscriberChange(
                name: change.name, categories: change.categories ?? defaults.defaultCategories,
                language: change.language, status: wanted), to: &record, db, source: .import)
            report.resubscribed.append(entry("\(current.rawValue) → \(wanted.rawValue)"))
            return
        }
        guard options.updateExisting else {
            report.existing.append(entry("already on the list (\(current.rawValue)); left unchanged (use --update-existing)"))
            return
        }
        if try apply(change, to: &record, db, source: .import) {
            report.updated.append(entry())
        } else {
            report.unchanged.append(entry())
        }
    }

    /// Every subscriber who still has an address, in the import format: exporting and
    /// importing into an empty database gives the same export again. Forgotten subscribers
    /// are left out (there is no address to write).
    public func exportCSV() async throws -> String {
        var listing = Listing(columns: SubscriberCSVColumn.allCases.map(\.rawValue))
        for subscriber in try await list() {
            guard let email = subscriber.email else { continue }
            listing.append([
                .text(email), .text(subscriber.name), .list(subscriber.categories),
                .text(subscriber.language.rawValue), .text(subscriber.status.rawValue),
            ])
        }
        return listing.rendered(as: .csv)
    }
}
