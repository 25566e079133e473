import Foundation
import GRDB
import PaperPostCore

/// One run of the daily job as the operator's metrics see it.
public struct DailyRun: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// Started and not finished: still going, or killed on the way.
        case running
        case ok
        /// Some deliveries deferred or failed, or the model failed and the heuristic stood in.
        case partial
        case failed
        /// arXiv announced nothing for the day (weekends, holidays).
        case noAnnouncement = "no_announcement"
    }

    public var id: Int64
    public var day: Day?
    public var startedAt: Date
    public var finishedAt: Date?
    public var outcome: Outcome
    public var detail: String?
}

/// The record of daily runs: written by `paperpost daily`, read by `GET /metrics`.
public struct DailyRunStore: Sendable {
    let database: PaperPostDatabase

    public init(database: PaperPostDatabase) {
        self.database = database
    }

    /// Records a run as started, and returns its id for ``finish(_:day:outcome:detail:)``.
    public func start(at date: Date = Date()) async throws -> Int64 {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO daily_run (started_at, outcome) VALUES (?, 'running')", arguments: [date])
            return db.lastInsertedRowID
        }
    }

    /// Names the day the run works on, as soon as the fetch knows it.
    public func setDay(_ id: Int64, _ day: Day) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE daily_run SET day = ? WHERE id = ?", arguments: [day.description, id])
        }
    }

    public func finish(_ id: Int64, outcome: DailyRun.Outcome, detail: String? = nil, at date: Date = Date()) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE daily_run SET outcome = ?, detail = ?, finished_at = ? WHERE id = ?",
                arguments: [outcome.rawValue, detail, date, id])
        }
    }

    /// The most recently started run.
    public func last() async throws -> DailyRun? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM daily_run ORDER BY id DESC LIMIT 1").map(Self.run)
        }
    }

    static func run(_ row: Row) -> DailyRun {
        DailyRun(
            id: row["id"], day: (row["day"] as String?).flatMap { try? Day(parsing: $0) }, startedAt: row["started_at"],
            finishedAt: row["finished_at"], outcome: DailyRun.Outcome(rawValue: row["outcome"]) ?? .failed, detail: row["detail"])
    }
}
