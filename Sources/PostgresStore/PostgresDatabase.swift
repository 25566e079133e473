import Foundation
import Logging
import PostgresNIO

/// PaperPost's PostgreSQL database, its schema brought up to date: one connection for work
/// that must stay on one (a copy in one transaction), and a pool for the stores, whose callers
/// run transactions side by side.
///
/// Opened for the length of a closure (``withDatabase(at:connections:logger:_:)``), so the
/// connections are closed however the work ends.
public struct PostgresDatabase: Sendable {
    public let location: PostgresLocation
    let connection: PostgresConnection
    let pool: PostgresClient
    let logger: Logger

    /// Connects (failing at once, with the reason, if the server cannot be reached), refuses
    /// another application's database, migrates the schema, runs `body` and closes everything.
    ///
    /// - Parameter connections: the most the pool opens at once.
    public static func withDatabase<T: Sendable>(
        at location: PostgresLocation,
        connections: Int = 8,
        logger: Logger = Logger(label: "paperpost.postgres"),
        _ body: (PostgresDatabase) async throws -> T
    ) async throws -> T {
        let connection: PostgresConnection
        let pool: PostgresClient
        do {
            connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(),
                configuration: try location.configuration(), id: 1, logger: logger
            ).get()
            pool = PostgresClient(configuration: try location.poolConfiguration(connections: connections), backgroundLogger: logger)
        } catch {
            throw PostgresStoreError.cannotConnect(location, reason: Self.describe(error))
        }
        let database = PostgresDatabase(location: location, connection: connection, pool: pool, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            do {
                try await database.migrate()
                let result = try await body(database)
                try? await connection.close()
                return result
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }

    /// Runs `body` in a transaction on a connection of the pool.
    func pooledTransaction<T>(_ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
        do {
            return try await pool.withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            throw unwrapped(error)
        }
    }

    /// Runs one statement on a connection of the pool, in a transaction of its own.
    func pooledStatement(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await pool.withConnection { connection in try await run(query, on: connection) }
    }

    /// Runs a prepared statement on a connection of the pool (prepared there on first use), in
    /// a transaction of its own.
    func execute<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] {
        do {
            var rows: [Statement.Row] = []
            for try await row in try await pool.execute(statement, logger: logger) { rows.append(row) }
            return rows
        } catch {
            throw PostgresStoreError.query(location, Self.describe(error))
        }
    }

    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws.
    func transaction<T>(_ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
        do {
            return try await connection.withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            throw unwrapped(error)
        }
    }

    /// The closure's own error (typed, from the store), else what failed around it.
    private func unwrapped(_ error: PostgresTransactionError) -> any Error {
        if let failure = error.closureError { return failure }
        let failure = error.beginError ?? error.commitError ?? error.rollbackError
        return PostgresStoreError.query(location, failure.map(Self.describe) ?? "the transaction failed")
    }

    /// Runs one statement; PostgreSQL's error becomes ``PostgresStoreError/query(_:_:)``.
    @discardableResult
    func run(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws -> [PostgresRow] {
        do {
            return try await (connection ?? self.connection).query(query, logger: logger).collect()
        } catch {
            throw PostgresStoreError.query(location, Self.describe(error))
        }
    }

    /// The error as PostgreSQL or the network put it. PostgresNIO's own description hides the
    /// server's message (it may quote data); an operator running a command needs it.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else {
            return (error as? PostgresStoreError)?.description ?? "\(error)"
        }
        if let message = error.serverInfo?[.message] {
            let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
            let place = error.serverInfo?[.locationContext].map { "; \($0)" } ?? ""
            let state = error.serverInfo?[.sqlState].map { " [SQLSTATE \($0)]" } ?? ""
            return message + detail + place + state
        }
        if let underlying = error.underlying {
            return "\(underlying)"
        }
        return "\(error.code)"
    }

    /// Applies the schema's steps not yet recorded, under an advisory lock so that two
    /// processes opening a new database at once do not both create it.
    private func migrate() async throws {
        try await transaction { connection in
            try await run("SELECT pg_advisory_xact_lock(7370617065727374)", on: connection)
            let tables = try await run(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name",
                on: connection
            ).map { try $0.decode(String.self) }
            if !tables.isEmpty && !tables.contains("paperpost_migration") {
                throw PostgresStoreError.foreignDatabase(location, tables: tables)
            }
            try await run(
                "CREATE TABLE IF NOT EXISTS paperpost_migration (identifier text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                on: connection)
            let applied = Set(
                try await run("SELECT identifier FROM paperpost_migration", on: connection).map { try $0.decode(String.self) })
            for migration in PostgresSchema.migrations where !applied.contains(migration.identifier) {
                for statement in migration.statements {
                    try await run(PostgresQuery(unsafeSQL: statement), on: connection)
                }
                try await run("INSERT INTO paperpost_migration (identifier) VALUES (\(migration.identifier))", on: connection)
            }
        }
    }

    /// How many rows each of PaperPost's tables holds.
    public func counts() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in PostgresSchema.tables {
            counts[table] = try await count(of: table, on: connection)
        }
        return counts
    }

    func count(of table: String, on connection: PostgresConnection) async throws -> Int {
        let rows = try await run(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), on: connection)
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }
}
