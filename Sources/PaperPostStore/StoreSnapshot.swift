import Foundation
import GRDB

/// One value of a stored row, as SQLite holds it: what a copy of the database to another engine
/// reads, without knowing the domain types.
public enum StoredValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A table's stored rows, as a copy to another engine pages through them.
public struct StoredRows: Sendable {
    /// The values of each row, in the order of the columns asked for.
    public var rows: [[StoredValue]]
    /// Where the next page starts (pass it as `after`); `nil` once the table is exhausted.
    public var next: Int64?
}

/// The database frozen at one moment, for copying it elsewhere: every read sees the same
/// committed state, however long the copy takes and whatever the daily job or the web server
/// write meanwhile (a WAL snapshot, which holds no lock).
public struct StoreSnapshot: Sendable {
    let snapshot: DatabaseSnapshot

    /// PaperPost's tables, without SQLite's and GRDB's own bookkeeping.
    public func tables() throws -> [String] {
        try read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table'
                    AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations' ORDER BY name
                    """)
        }
    }

    /// The table's columns, in their stored order.
    public func columns(of table: String) throws -> [String] {
        try read { db in try db.columns(in: table).map(\.name) }
    }

    public func count(of table: String) throws -> Int {
        try read { db in try db.tableExists(table) ? Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.quotedDatabaseIdentifier)") ?? 0 : 0 }
    }

    /// Up to `limit` rows of `table` after the row `after` (in storage order), with `columns`.
    public func rows(of table: String, columns: [String], after: Int64?, limit: Int) throws -> StoredRows {
        try read { db in
            let list = columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
            let cursor = try Row.fetchCursor(
                db,
                sql: "SELECT _rowid_, \(list) FROM \(table.quotedDatabaseIdentifier) WHERE _rowid_ > ? ORDER BY _rowid_ LIMIT ?",
                arguments: [after ?? Int64.min, limit])
            var rows: [[StoredValue]] = []
            var last: Int64?
            while let row = try cursor.next() {
                last = row[0]
                rows.append((1...columns.count).map { StoredValue(row[$0] as DatabaseValue) })
            }
            return StoredRows(rows: rows, next: rows.count == limit ? last : nil)
        }
    }

    /// The sends whose lease had not expired at `date`: a copy taken now would miss what they write next.
    public func activeSendLeases(at date: Date) throws -> [(day: String, owner: String, expiresAt: String)] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT day, owner, expires_at FROM send_lease WHERE expires_at > ? ORDER BY day, owner",
                arguments: [date.fastDatabaseValue]
            ).map { ($0["day"], $0["owner"], $0["expires_at"]) }
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try snapshot.read(body)
        } catch let error as DatabaseError {
            throw StoreError.database(error.description)
        }
    }
}

extension StoredValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let integer): self = .integer(integer)
        case .double(let real): self = .real(real)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .blob([UInt8](data))
        }
    }
}

extension PaperPostDatabase {
    /// The database as it is now, for a copy that must not mix two moments.
    public func snapshot() throws -> StoreSnapshot {
        do {
            return StoreSnapshot(snapshot: try writer.makeSnapshot())
        } catch let error as DatabaseError {
            throw StoreError.database(error.description)
        }
    }
}
