import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// The record of daily runs in PostgreSQL.
public struct PostgresDailyRunStore: DailyRunLog {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func start(at date: Date) async throws -> Int64 {
        try await database.pooledTransaction { connection in
            guard
                let id = try await database.run(
                    "INSERT INTO daily_run (started_at, outcome) VALUES (\(date), 'running') RETURNING id", on: connection
                ).first?.decode(Int64.self)
            else { throw PostgresStoreError.query(database.location, "the daily run could not be recorded") }
            return id
        }
    }

    public func setDay(_ id: Int64, _ day: Day) async throws {
        _ = try await database.pooledStatement("UPDATE daily_run SET day = \(day.description) WHERE id = \(id)")
    }

    public func finish(_ id: Int64, outcome: DailyRun.Outcome, detail: String?, at date: Date) async throws {
        _ = try await database.pooledStatement(
            "UPDATE daily_run SET outcome = \(outcome.rawValue), detail = \(detail), finished_at = \(date) WHERE id = \(id)")
    }

    public func last() async throws -> DailyRun? {
        try await database.pooledTransaction { connection in try await Self.last(database, connection) }
    }

    static func last(_ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> DailyRun? {
        try await database.run(
            "SELECT id, day, started_at, finished_at, outcome, detail FROM daily_run ORDER BY id DESC LIMIT 1", on: connection
        ).first.map { row in
            let (id, day, started, finished, outcome, detail) = try row.decode((Int64, String?, Date, Date?, String, String?).self)
            return DailyRun(
                id: id, day: day.flatMap { try? Day(parsing: $0) }, startedAt: started, finishedAt: finished,
                outcome: DailyRun.Outcome(rawValue: outcome) ?? .failed, detail: detail)
        }
    }
}
