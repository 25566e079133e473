import Foundation
import PaperPostCore

/// What an import does with one row, decided from what the list holds for its address: the
/// same rules on both engines.
package enum ImportDecision {
    /// A new address.
    case add(NewSubscriber)
    /// A known address left as it is: suppressed (unsubscribed, bounced, forgotten) or
    /// merely known, with the note the report shows.
    case leave(suppressed: Bool, note: String)
    /// A suppressed or forgotten address the file brings back (only with `resubscribe`); a
    /// forgotten one gets its address again.
    case resubscribe(SubscriberChange, note: String)
    /// A known address changed to what the file says (only with `updateExisting`).
    case update(SubscriberChange)
}

extension ImportRow {
    /// - Parameter current: the stored subscriber's status and whether they were forgotten;
    ///   `nil` for an address the list does not know.
    package func decision(current: (status: SubscriberStatus, forgotten: Bool)?, options: ImportOptions, defaults: Settings) throws
        -> ImportDecision
    {
        guard let current else {
            return .add(
                NewSubscriber(
                    email: email, name: name, categories: categories ?? defaults.defaultCategories, language: language ?? defaults.defaultLanguage,
                    status: status ?? .active,
                    interests: try ReaderInterests(interests: interests[.interest] ?? [], muted: interests[.muted] ?? [], authors: interests[.author] ?? []),
                    schedule: schedule ?? .daily))
        }
        let change = SubscriberChange(
            name: hasName ? (name ?? "") : nil, categories: categories, language: language, status: status, interests: interests, schedule: schedule)
        if current.status.isSuppressed || current.forgotten {
            let wanted = status ?? .active
            guard options.resubscribe, !wanted.isSuppressed else {
                return .leave(suppressed: true, note: "\(current.status.rawValue); not re-activated (use --resubscribe if they asked to come back)")
            }
            return .resubscribe(
                SubscriberChange(
                    name: change.name, categories: change.categories ?? defaults.defaultCategories, language: change.language, status: wanted,
                    interests: change.interests, schedule: change.schedule),
                note: "\(current.status.rawValue) → \(wanted.rawValue)")
        }
        guard options.updateExisting else {
            return .leave(suppressed: false, note: "already on the list (\(current.status.rawValue)); left unchanged (use --update-existing)")
        }
        return .update(change)
    }

    package func entry(_ note: String? = nil) -> ImportReport.Entry {
        ImportReport.Entry(line: line, email: email.value, note: note)
    }
}

/// An import's two passes, whichever store it writes to: every row of the file read and
/// checked into a staging file first (nothing is written when a row is invalid, unless
/// `skipInvalid`), then the valid rows handed to the store a transaction's worth at a time.
package struct ImportDriver: Sendable {
    var file: String
    var options: ImportOptions
    var chunking: ImportChunking
    var progress: (@Sendable (ImportProgress) async -> Void)?

    package init(file: String, options: ImportOptions, chunking: ImportChunking, progress: (@Sendable (ImportProgress) async -> Void)?) {
        self.file = file
        self.options = options
        self.chunking = chunking
        self.progress = progress
    }

    /// Opens the file for ``run(_:caseSensitiveLocalPart:stagingBeside:write:)``.
    ///
    /// - Throws: ``ImportError/unusableFile(_:)`` when it cannot be read.
    package static func stream(_ url: URL, file: String) throws -> InputStream {
        guard FileManager.default.isReadableFile(atPath: url.path), let stream = InputStream(url: url) else {
            throw ImportError.unusableFile(ImportProblem(file: file, line: 1, message: "cannot read the file"))
        }
        return stream
    }

    /// - Parameters:
    ///   - stagingBeside: the path the staging file is made beside (with a suffix).
    ///   - write: writes rows from the start of those given, in one transaction (rolled back
    ///     on a dry run); returns what it did and how many rows it took.
    package func run(
        _ stream: InputStream, caseSensitiveLocalPart: Bool, stagingBeside: String,
        write: @escaping @Sendable ([ImportRow]) async throws -> (report: ImportReport, used: Int)
    ) async throws -> ImportReport {
        try await staged(stream, caseSensitiveLocalPart: caseSensitiveLocalPart, stagingBeside: stagingBeside) { staging, total in
            var pending: [ImportRow] = []
            // The next rows are read from the staging file while the current ones are written.
            let chunkRows = chunking.rows
            var next = Task { try staging.rows(after: 0, limit: chunkRows) }
            defer { next.cancel() }
            return try await applyInTransactions(total: total) {
                if pending.isEmpty {
                    pending = try await next.value
                    guard let last = pending.last else { return (ImportReport(), 0) }
                    next = Task { try staging.rows(after: last.line, limit: chunkRows) }
                }
                let chunk = try await write(pending)
                pending.removeFirst(chunk.used)
                return chunk
            }
        }
    }

    /// Reads and checks the whole file into a staging file, then has `apply` write its `total`
    /// valid rows (with ``applyInTransactions(total:_:)``).
    func staged(
        _ stream: InputStream, caseSensitiveLocalPart: Bool, stagingBeside: String,
        apply: (_ staging: ImportStaging, _ total: Int) async throws -> ImportReport
    ) async throws -> ImportReport {
        var reader = try SubscriberCSVReader(stream: stream, file: file, caseSensitiveLocalPart: caseSensitiveLocalPart)
        let staging = try ImportStaging(besides: stagingBeside)
        var problems = ListedRows<ImportProblem>()
        try await staging.fill(from: &reader, problems: &problems)
        if !problems.isEmpty && !options.skipInvalid {
            throw ImportError.invalidRows(problems)
        }
        var report = try await apply(staging, try staging.count())
        report.invalid = problems
        report.dryRun = options.dryRun
        return report
    }

    /// Calls `transaction` until `total` rows are written, pausing between two transactions
    /// and reporting progress after each. `transaction` writes the next rows in one
    /// transaction and returns what it did and how many rows it took (none: there are no more).
    ///
    /// - Throws: ``ImportInterrupted`` when a transaction fails.
    func applyInTransactions(
        total: Int, _ transaction: () async throws -> (report: ImportReport, used: Int)
    ) async throws -> ImportReport {
        var report = ImportReport()
        var applied = 0
        while applied < total {
            let chunk: (report: ImportReport, used: Int)
            do {
                if applied > 0 {
                    try await Task.sleep(for: chunking.pause)
                }
                chunk = try await transaction()
            } catch {
                throw ImportInterrupted(file: file, applied: options.dryRun ? 0 : applied, total: total, reason: "\(error)")
            }
            guard chunk.used > 0 else { break }
            report.append(chunk.report)
            applied += chunk.used
            await progress?(ImportProgress(applied: applied, total: total))
        }
        return report
    }
}
