import Logging
import NIOPosix
import PostgresNIO

/// What `paperpost check --live` says about a PostgreSQL store.
public struct PostgresServerFacts: Sendable {
    public var version: String
    public var maxConnections: Int
    /// Whether PaperPost's tables are there (the first command creates them).
    public var hasSchema: Bool
}

extension PostgresDatabase {
    /// Connects once, reads what `check` reports and disconnects, without creating or changing
    /// anything (unlike ``withDatabase(at:connections:logger:_:)``, which migrates the schema).
    public static func probe(_ location: PostgresLocation, logger: Logger = Logger(label: "paperpost.postgres")) async throws -> PostgresServerFacts {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: try location.configuration(), id: 1, logger: logger
            ).get()
        } catch {
            throw PostgresStoreError.cannotConnect(location, reason: describe(error))
        }
        do {
            let rows = try await connection.query(
                """
                SELECT current_setting('server_version'), current_setting('max_connections')::bigint,
                    to_regclass('public.delivery') IS NOT NULL
                """,
                logger: logger
            ).collect()
            try? await connection.close()
            guard let row = rows.first else { throw PostgresStoreError.query(location, "the server answered nothing") }
            let (version, connections, schema) = try row.decode((String, Int64, Bool).self)
            return PostgresServerFacts(version: version, maxConnections: Int(connections), hasSchema: schema)
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            try? await connection.close()
            throw PostgresStoreError.query(location, describe(error))
        }
    }
}
