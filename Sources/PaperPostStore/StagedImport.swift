import Foundation
import GRDB
import PaperPostCore

/// One transaction of an import into SQLite, read from the staging file attached to the
/// writer's connection: the addresses the list already knows are decided one by one in Swift
/// (as ``ImportRow/decision(current:options:defaults:)`` says), and the new ones, nearly all
/// rows of a large import, are added by a few `INSERT … SELECT` statements. Handing SQLite a
/// million rows one statement at a time through Swift took about twice as long as SQLite's
/// own work on them.
///
/// What a new subscriber gets is what ``SubscriberStore/insert(_:_:source:kind:)``
/// gives one added alone: the file's values or the defaults, the staged secret, one
/// `imported` event with ``NewSubscriber/addedDetail``.
struct StagedImport {
    /// The schema name the staging file is attached under.
    static let schema = "import_staging"
    /// The key an address would have once forgotten (see ``SubscriberKeys/forgotten(_:)``), for
    /// SQL: asked only of a list someone was forgotten from, since it is a SHA-256 a row.
    static let forgottenKey = DatabaseFunction("paperpost_forgotten_key", argumentCount: 1, pure: true) { values in
        String.fromDatabaseValue(values[0]).map(SubscriberKeys.forgotten)
    }

    var options: ImportOptions
    var defaults: Settings

    /// Writes the staged rows after line `after`, at most `limit` of them, in one transaction
    /// (rolled back on a dry run).
    ///
    /// - Parameter listing: how many added rows the report is to list at most.
    /// - Returns: what it did, how many rows it took and the line of the last of them.
    func apply(_ db: Database, after: Int, limit: Int, listing: Int) throws -> (report: ImportReport, used: Int, last: Int) {
        var result = (report: ImportReport(), used: 0, last: after)
        try db.inTransaction(.immediate) {
            let span = try Row.fetchOne(
                db, sql: "SELECT count(*), max(line) FROM (SELECT line FROM \(Self.schema).row WHERE line > ? ORDER BY line LIMIT ?)",
                arguments: [after, limit])
            guard let span, let last: Int = span[1] else { return .rollback }
            result.used = span[0]
            result.last = last
            let range: StatementArguments = [after, last]
            let now = Date()

            let anyForgotten = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM subscriber WHERE email_key >= 'sha256:' AND email_key < 'sha256;')") ?? true
            // The subscriber an address is, as it is or forgotten (only looked for when anyone was).
            let stored = """
                (SELECT s.id FROM main.subscriber s WHERE s.email_key IN (r.email_key\(anyForgotten ? ", \(Self.forgottenKey.name)(r.email_key)" : "")) LIMIT 1)
                """
            let known = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.*, s.id AS stored_id, s.status AS stored_status, s.email IS NULL AS stored_forgotten
                    FROM \(Self.schema).row r JOIN main.subscriber s ON s.id = \(stored)
                    WHERE r.line > ? AND r.line <= ? ORDER BY r.line
                    """,
                arguments: range)
            for row in known {
                try decide(
                    try ImportStaging.importRow(row), db, id: row["stored_id"],
                    current: (status: SubscriberStatus(rawValue: row["stored_status"]) ?? .paused, forgotten: row["stored_forgotten"]),
                    into: &result.report)
            }

            let before = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM subscriber") ?? 0
            let added = try addNew(db, range: range, stored: stored, before: before, now: now.fastDatabaseValue)
            try listAdded(db, range: range, before: before, count: added, listing: listing, into: &result.report)
            return options.dryRun ? .rollback : .commit
        }
        return result
    }

    /// A known address: left alone, resubscribed or updated, as the options say.
    private func decide(
        _ row: ImportRow, _ db: Database, id: Int64, current: (status: SubscriberStatus, forgotten: Bool), into report: inout ImportReport
    ) throws {
        switch try row.decision(current: current, options: options, defaults: defaults) {
        case .add:
            return  // Only for an address the list does not know.
        case .leave(let suppressed, let note):
            if suppressed { report.suppressed.append(row.entry(note)) } else { report.existing.append(row.entry(note)) }
        case .resubscribe(let change, let note):
            guard var record = try SubscriberRecord.fetchOne(db, key: id) else { return }
            if record.email == nil {
                record.email = row.email.value
                record.emailKey = row.email.key
                try record.update(db)
            }
            try SubscriberStore.apply(change, to: &record, db, source: .import)
            report.resubscribed.append(row.entry(note))
        case .update(let change):
            guard var record = try SubscriberRecord.fetchOne(db, key: id) else { return }
            if try SubscriberStore.apply(change, to: &record, db, source: .import) {
                report.updated.append(row.entry())
            } else {
                report.unchanged.append(row.entry())
            }
        }
    }

    /// The new addresses of the range, in file order (their ids follow it), with their
    /// categories, interests and `imported` events. Returns how many there were.
    private func addNew(_ db: Database, range: StatementArguments, stored: String, before: Int64, now: DatabaseValue) throws -> Int {
        let active = SubscriberStatus.active.rawValue
        let categories = defaults.defaultCategories.joined(separator: " ")
        try db.execute(
            sql: """
                INSERT INTO subscriber (email, email_key, name, language, status, secret, bounce_count, bounce_score, created_at,
                    confirmed_at, unsubscribed_at, updated_at, schedule)
                SELECT r.email, r.email_key, r.name, coalesce(r.language, ?), coalesce(r.status, ?), r.secret, 0, 0, ?,
                    CASE WHEN coalesce(r.status, ?) IN (?, ?) THEN ? END, CASE WHEN r.status = ? THEN ? END, ?, coalesce(r.schedule, ?)
                FROM \(Self.schema).row r WHERE r.line > ? AND r.line <= ? AND \(stored) IS NULL ORDER BY r.line
                """,
            arguments: [
                defaults.defaultLanguage.rawValue, active, now, active, active, SubscriberStatus.paused.rawValue, now,
                SubscriberStatus.unsubscribed.rawValue, now, now, Schedule.daily.description,
            ] + range)
        let count = db.changesCount
        // The rows just added: their ids are above every id there was before.
        let added = "\(Self.schema).row r JOIN main.subscriber s ON s.email_key = r.email_key WHERE r.line > ? AND r.line <= ? AND s.id > ?"
        let addedArguments = range + [before]
        try db.execute(
            sql: """
                WITH RECURSIVE split (subscriber_id, rest, position, category) AS (
                    SELECT s.id, coalesce(r.categories, ?) || ' ', -1, NULL FROM \(added)
                    UNION ALL
                    SELECT subscriber_id, substr(rest, instr(rest, ' ') + 1), position + 1, substr(rest, 1, instr(rest, ' ') - 1)
                    FROM split WHERE rest <> ''
                )
                INSERT INTO subscriber_category (subscriber_id, category, position)
                SELECT subscriber_id, category, position FROM split WHERE category <> ''
                """,
            arguments: [categories] + addedArguments)
        // Interest lists are staged one entry a line (an entry never holds a line break).
        let lists = ReaderInterests.Kind.allCases.map { kind in
            "SELECT s.id, ?, r.\(ImportStaging.column(kind)) || char(10), -1, NULL FROM \(added) AND r.\(ImportStaging.column(kind)) <> ''"
        }
        try db.execute(
            sql: """
                WITH RECURSIVE split (subscriber_id, kind, rest, position, phrase) AS (
                    \(lists.joined(separator: "\nUNION ALL\n"))
                    UNION ALL
                    SELECT subscriber_id, kind, substr(rest, instr(rest, char(10)) + 1), position + 1, substr(rest, 1, instr(rest, char(10)) - 1)
                    FROM split WHERE rest <> ''
                )
                INSERT INTO subscriber_interest (subscriber_id, kind, phrase, position)
                SELECT subscriber_id, kind, phrase, position FROM split WHERE phrase IS NOT NULL
                """,
            arguments: ReaderInterests.Kind.allCases.map { [$0.rawValue] + addedArguments }.reduce(StatementArguments(), +))
        // The detail is NewSubscriber.addedDetail's.
        try db.execute(
            sql: """
                INSERT INTO subscriber_event (subscriber_id, kind, source, detail, created_at)
                SELECT s.id, ?, ?, 'status ' || coalesce(r.status, ?) || '; categories ' || coalesce(r.categories, ?), ?
                FROM \(added) ORDER BY s.id
                """,
            arguments: [SubscriberEvent.Kind.imported.rawValue, SubscriberEvent.Source.import.rawValue, active, categories, now] + addedArguments)
        return count
    }

    /// Counts `count` added rows in the report and lists the first of them, in file order.
    private func listAdded(
        _ db: Database, range: StatementArguments, before: Int64, count: Int, listing: Int, into report: inout ImportReport
    ) throws {
        let rows =
            listing == 0
            ? []
            : try Row.fetchAll(
                db,
                sql: """
                    SELECT r.line, r.email FROM \(Self.schema).row r JOIN main.subscriber s ON s.email_key = r.email_key
                    WHERE r.line > ? AND r.line <= ? AND s.id > ? ORDER BY r.line LIMIT ?
                    """,
                arguments: range + [before, listing])
        let entries = rows.map { ImportReport.Entry(line: $0[0], email: $0[1], note: nil) }
        report.added.append(listing: entries, of: count)
    }
}
