import Foundation
import GRDB
import PaperPostCore

/// An import's checked rows, kept on disk between reading the file and writing the list: a
/// file of a million rows is checked whole before anything is written, without holding it.
///
/// A throwaway SQLite file beside the database (never `/tmp`, which may be memory), with no
/// journal: losing it in a crash loses nothing, since the import starts from the file again.
/// Its unique key on the address is what finds an address the file names twice. Each row also
/// carries a new subscriber's link secret, made here on both cores, so that SQLite can add the
/// new addresses from it in bulk.
///
/// Sendable by hand: its one connection is a `DatabaseQueue`, which serialises its use.
final class ImportStaging: @unchecked Sendable {
    private let queue: DatabaseQueue
    let path: String
    /// Rows written to the staging file in one transaction.
    static let batch = 2_000

    init(besides databasePath: String) throws {
        path = databasePath + ".import-\(UUID().uuidString.prefix(8))"
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE row (
                    line INTEGER PRIMARY KEY, email TEXT NOT NULL, email_key TEXT NOT NULL UNIQUE, name TEXT, has_name INTEGER NOT NULL,
                    categories TEXT, language TEXT, status TEXT, interests TEXT, muted TEXT, authors TEXT, schedule TEXT, secret TEXT NOT NULL)
                """)
        }
    }

    deinit {
        try? queue.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Reads and checks every row of the file, keeping the valid ones; the problems are
    /// counted (and the first of them listed) in the order of their lines. An address named
    /// twice is a problem of its second line.
    ///
    /// Three batches are in hand at once, on two cores: one being read, the one before it
    /// being checked, and the one before that being kept. Batches are kept in order, so the
    /// first line of an address named twice is the one kept.
    func fill(from reader: inout SubscriberCSVReader, problems: inout ListedRows<ImportProblem>) async throws {
        let check = reader.rowCheck
        let file = reader.file
        var checking: Task<(rows: [ImportRow], problems: [ImportProblem]), Never>?
        var keeping: Task<[ImportProblem], any Error>?
        var finished = false
        while !finished || checking != nil {
            var records: [CSVRecord] = []
            records.reserveCapacity(Self.batch)
            while !finished && records.count < Self.batch {
                guard let next = try reader.nextRecord() else {
                    finished = true
                    break
                }
                records.append(next)
            }
            let checked = await checking?.value
            checking =
                records.isEmpty
                ? nil
                : Task { [records] in
                    var rows: [ImportRow] = []
                    var found: [ImportProblem] = []
                    rows.reserveCapacity(records.count)
                    for record in records {
                        switch check.row(record) {
                        case .row(let row): rows.append(row)
                        case .problem(let problem): found.append(problem)
                        }
                    }
                    return (rows, found)
                }
            guard let checked else { continue }
            for problem in try await keeping?.value ?? [] { problems.append(problem) }
            keeping = Task {
                (checked.problems + (try self.keep(checked.rows, file: file))).sorted { $0.line < $1.line }
            }
        }
        for problem in try await keeping?.value ?? [] { problems.append(problem) }
    }

    /// Writes a batch of rows in one transaction; returns the duplicates among them.
    private func keep(_ rows: [ImportRow], file: String) throws -> [ImportProblem] {
        try queue.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO row (
                    line, email, email_key, name, has_name, categories, language, status, interests, muted, authors, schedule, secret)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email_key) DO NOTHING
                """)
            var duplicates: [ImportProblem] = []
            let secrets = SubscriberKeys.newSecrets(rows.count)
            for (row, secret) in zip(rows, secrets) {
                let interests = ReaderInterests.Kind.allCases.map { kind -> String? in row.interests[kind].map { $0.joined(separator: "\n") } }
                try insert.execute(arguments: [
                    row.line, row.email.value, row.email.key, row.name, row.hasName, row.categories?.joined(separator: " "),
                    row.language?.rawValue, row.status?.rawValue, interests[0], interests[1], interests[2], row.schedule?.description,
                    secret,
                ])
                if db.changesCount == 0 {
                    let first = try Int.fetchOne(db, sql: "SELECT line FROM row WHERE email_key = ?", arguments: [row.email.key]) ?? 0
                    duplicates.append(ImportProblem(
                        file: file, line: row.line, message: "'\(row.email.value.quotedForMessage)' is a duplicate of line \(first)"))
                }
            }
            return duplicates
        }
    }

    /// How many valid rows there are.
    func count() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM row") ?? 0 }
    }

    /// The next rows in file order after `line`.
    func rows(after line: Int, limit: Int) throws -> [ImportRow] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM row WHERE line > ? ORDER BY line LIMIT ?", arguments: [line, limit]).map(Self.importRow)
        }
    }

    /// A row of the staging table as the import reads it, also through another connection
    /// that has the file attached.
    static func importRow(_ row: Row) throws -> ImportRow {
        var interests: [ReaderInterests.Kind: [String]] = [:]
        for kind in ReaderInterests.Kind.allCases {
            if let text: String = row[column(kind)] {
                interests[kind] = text.isEmpty ? [] : text.split(separator: "\n").map(String.init)
            }
        }
        let categories: String? = row["categories"]
        return ImportRow(
            line: row["line"], email: EmailAddress(alreadyValidated: row["email"], key: row["email_key"]), name: row["name"],
            categories: categories.map { $0.split(separator: " ").map(String.init) },
            language: (row["language"] as String?).flatMap(Language.init(rawValue:)),
            status: (row["status"] as String?).flatMap(SubscriberStatus.init(rawValue:)), hasName: row["has_name"],
            interests: interests, schedule: try (row["schedule"] as String?).map(Schedule.init(parsing:)))
    }

    /// The column a list of interests is staged in, one entry a line.
    static func column(_ kind: ReaderInterests.Kind) -> String {
        switch kind {
        case .interest: "interests"
        case .muted: "muted"
        case .author: "authors"
        }
    }
}
