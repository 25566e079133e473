import Foundation
import Logging
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// The throwaway PostgreSQL cluster `make test` starts (`scripts/postgres-cluster`, its URL in
/// `PAPERPOST_TEST_POSTGRES_URL`), and a new database in it for each test.
public enum TestPostgres {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "PAPERPOST_TEST_POSTGRES_URL is not set: run the tests with `make test`, or start a cluster with "
                + "`scripts/postgres-cluster start DIR` and set the variable to the URL it prints"
        }
    }

    /// The URL of a new, empty database (TLS off: the cluster is on loopback).
    public static func newDatabase() async throws -> String {
        guard let server = ProcessInfo.processInfo.environment["PAPERPOST_TEST_POSTGRES_URL"] else { throw NotConfigured() }
        return try await newDatabase(on: server)
    }

    /// The same on the server at `server` (the URL of any database on it).
    public static func newDatabase(on server: String) async throws -> String {
        guard var components = URLComponents(string: server) else { throw NotConfigured() }
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await withConnection(to: server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        components.path = "/" + name
        components.queryItems = [URLQueryItem(name: "sslmode", value: "disable")]
        return components.string!
    }

    /// Runs `body` on a connection to the database at `url`.
    @discardableResult
    public static func withConnection<T: Sendable>(
        to url: String, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let components = try require_(URLComponents(string: url))
        let configuration = PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "paperpost",
            password: components.password, database: String(components.path.dropFirst()), tls: .disable)
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: logger
        ).get()
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Every row of `table` at `url`, each value as text in the form SQLite's store keeps it
    /// (times as GRDB writes them, booleans as 0 or 1, bytes as hex), sorted: for comparing a
    /// copy with its source.
    public static func rows(of table: String, at url: String) async throws -> [[String?]] {
        try await withConnection(to: url) { connection in
            let columns = try await connection.query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_name = \(table) ORDER BY ordinal_position",
                logger: logger
            ).collect().map { try $0.decode((String, String).self) }
            let selected = columns.map { name, type in
                switch type {
                case "timestamp with time zone": "to_char(\(name) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')"
                case "boolean": "\(name)::int::text"
                case "bytea": "encode(\(name), 'hex')"
                default: "\(name)::text"
                }
            }
            let reals = Set(columns.enumerated().filter { $0.element.1 == "double precision" }.map(\.offset))
            return try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(selected.joined(separator: ", ")) FROM \(table)"), logger: logger
            ).collect().map { row in
                try row.makeRandomAccess().enumerated().map { index, cell in
                    let text = try cell.decode(String?.self)
                    return reals.contains(index) ? text.flatMap(Double.init).map { "\($0)" } : text
                }
            }.sorted { $0.lexicographicallyPrecedes($1) { ($0 ?? "") < ($1 ?? "") } }
        }
    }

    /// The same for the SQLite database at `path`.
    public static func rows(of table: String, inSQLite path: String) throws -> [[String?]] {
        let snapshot = try PaperPostDatabase.open(path: path).snapshot()
        let columns = try snapshot.columns(of: table)
        var rows: [[String?]] = []
        var after: Int64?
        repeat {
            let page = try snapshot.rows(of: table, columns: columns, after: after, limit: 1_000)
            rows += page.rows.map { row in
                row.map { value in
                    switch value {
                    case .null: nil
                    case .integer(let integer): String(integer)
                    case .real(let real): "\(real)"
                    case .text(let text): text
                    case .blob(let bytes): bytes.hexEncoded
                    }
                }
            }
            after = page.next
        } while after != nil
        return rows.sorted { $0.lexicographicallyPrecedes($1) { ($0 ?? "") < ($1 ?? "") } }
    }

    static let logger = Logger(label: "paperpost.tests.postgres")
}

/// `URLComponents(string:)` that throws instead of returning nil.
private func require_<T>(_ value: T?) throws -> T {
    guard let value else { throw TestPostgres.NotConfigured() }
    return value
}
