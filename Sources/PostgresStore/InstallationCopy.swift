import Foundation
import PaperPostStore
import PostgresNIO

/// `paperpost migrate`: a SQLite installation copied into a new PostgreSQL database, whole or
/// not at all.
///
/// The source is read from one snapshot (the web server and the daily job may go on writing;
/// what they write after the snapshot is not copied), every table goes over with `COPY` in
/// one PostgreSQL transaction, and the row counts are compared before it commits.
public struct InstallationCopy: Sendable {
    /// What was copied, table by table, in the order it was.
    public struct Report: Sendable {
        public var tables: [(name: String, rows: Int)]
        public var copiedSecret: Bool
    }

    /// Rows read from SQLite and sent to PostgreSQL at a time.
    static let pageSize = 2_000

    public let source: PaperPostDatabase
    /// The link-signing key of the SQLite installation (its `secret` file), so that links in
    /// mail already sent keep working; `nil` when the installation uses `PAPERPOST_SECRET`.
    public let secret: [UInt8]?

    public init(source: PaperPostDatabase, secret: [UInt8]?) {
        self.source = source
        self.secret = secret
    }

    /// Copies everything into `target`, which must hold no PaperPost rows yet.
    ///
    /// - Parameter progress: called after each page with the table and its rows copied so far.
    /// - Throws: ``PostgresStoreError`` naming what stopped the copy; PostgreSQL is then as it was.
    public func copy(
        to target: PostgresDatabase,
        now: Date = Date(),
        progress: @Sendable (_ table: String, _ rows: Int) -> Void = { _, _ in }
    ) async throws -> Report {
        let snapshot = try source.snapshot()
        if let lease = try snapshot.activeSendLeases(at: now).first {
            throw PostgresStoreError.sendRunning(day: lease.day, owner: lease.owner, until: lease.expiresAt)
        }
        let sourceTables = Set(try snapshot.tables())
        let targetTables = Set(PostgresSchema.tables).subtracting(["link_secret"])
        if let missing = sourceTables.subtracting(targetTables).sorted().first {
            throw PostgresStoreError.schemaMismatch("PostgreSQL has no table '\(missing)'")
        }
        if let missing = targetTables.subtracting(sourceTables).sorted().first {
            throw PostgresStoreError.schemaMismatch("SQLite has no table '\(missing)'")
        }

        let report = try await target.transaction { connection in
            // One copy at a time into a database, and none beside a process migrating it.
            try await target.run("SELECT pg_advisory_xact_lock(7370617065727374)", on: connection)
            for table in PostgresSchema.tables {
                let rows = try await target.count(of: table, on: connection)
                if rows > 0 { throw PostgresStoreError.notEmpty(target.location, table: table, rows: rows) }
            }
            var report = Report(tables: [], copiedSecret: false)
            for table in PostgresSchema.tables where table != "link_secret" {
                let columns = try await Self.columns(of: table, in: target, on: connection)
                let stored = Set(try snapshot.columns(of: table))
                if let missing = columns.map(\.name).first(where: { !stored.contains($0) }) {
                    throw PostgresStoreError.schemaMismatch("SQLite's '\(table)' has no column '\(missing)'")
                }
                if let missing = stored.subtracting(columns.map(\.name)).sorted().first {
                    throw PostgresStoreError.schemaMismatch("PostgreSQL's '\(table)' has no column '\(missing)'")
                }
                let copied = try await copy(table, columns: columns, from: snapshot, to: target, on: connection, progress: progress)
                let expected = try snapshot.count(of: table)
                let landed = try await target.count(of: table, on: connection)
                guard copied == expected, landed == expected else {
                    throw PostgresStoreError.countMismatch(table: table, source: expected, copied: landed)
                }
                report.tables.append((table, landed))
            }
            for table in PostgresSchema.numberedTables {
                try await target.run(
                    PostgresQuery(
                        unsafeSQL: "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE(max(id), 0) + 1, false) FROM \(table)"),
                    on: connection)
            }
            if let secret {
                try await target.run("INSERT INTO link_secret (id, key) VALUES (1, \(ByteBuffer(bytes: secret)))", on: connection)
                report.copiedSecret = true
            }
            return report
        }
        // Rows just copied have no statistics and no hint bits yet: the first commands would
        // plan blind and write every page they read while autovacuum catches up beside them.
        for table in PostgresSchema.tables {
            try await target.run(PostgresQuery(unsafeSQL: "VACUUM (ANALYZE) \(table)"))
        }
        return report
    }

    private func copy(
        _ table: String,
        columns: [CopyColumn],
        from snapshot: StoreSnapshot,
        to target: PostgresDatabase,
        on connection: PostgresConnection,
        progress: @Sendable (String, Int) -> Void
    ) async throws -> Int {
        var copied = 0
        do {
            try await connection.copyFrom(table: table, columns: columns.map(\.name), logger: target.logger) { writer in
                var after: Int64?
                repeat {
                    let page = try snapshot.rows(of: table, columns: columns.map(\.name), after: after, limit: Self.pageSize)
                    var buffer = ByteBuffer()
                    for row in page.rows {
                        try CopyText.append(row, columns: columns, table: table, to: &buffer)
                    }
                    if !page.rows.isEmpty { try await writer.write(buffer) }
                    copied += page.rows.count
                    progress(table, copied)
                    after = page.next
                } while after != nil
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch let error as StoreError {
            throw error
        } catch {
            throw PostgresStoreError.query(target.location, "copying '\(table)': " + PostgresDatabase.describe(error))
        }
        return copied
    }

    private static func columns(
        of table: String, in target: PostgresDatabase, on connection: PostgresConnection
    ) async throws -> [CopyColumn] {
        try await target.run(
            """
            SELECT column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table) ORDER BY ordinal_position
            """,
            on: connection
        ).map { row in
            let (name, type) = try row.decode((String, String).self)
            return CopyColumn(name: name, type: CopyColumn.Kind(postgresType: type))
        }
    }
}
