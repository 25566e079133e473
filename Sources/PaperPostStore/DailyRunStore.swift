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

    public init(id: Int64, day: Day?, startedAt: Date, finishedAt: Date?, outcome: Outcome, detail: String?) {
        self.id = id
        self.day = day
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.detail = detail
    }
}

/// The record of daily runs: written by `paperpost daily`, read by `GET /metrics`. Two
/// implementations: SQLite (``DailyRunStore``) and PostgreSQL.
public protocol DailyRunLog: Sendable {
    /// Records a run as started, and returns its id for ``finish(_:outcome:detail:at:)``.
    func start(at date: Date) async throws -> Int64
    /// Names the day the run works on, as soon as the fetch knows it.
    func setDay(_ id: Int64, _ day: Day) async throws
    func finish(_ id: Int64, outcome: DailyRun.Outcome, detail: String?, at date: Date) async throws
    /// The most recently started run.
    func last() async throws -> DailyRun?
}

extension DailyRunLog {
    public func start() async throws -> Int64 {
        try await start(at: Date())
    }

    public func finish(_ id: Int64, outcome: DailyRun.Outcome, detail: String? = nil) async throws {
        try await finish(id, outcome: outcome, detail: detail, at: Date())
    }
}

public struct DailyRunStore: DailyRunLog {
    let database: PaperPostDatabase

    public init(database: PaperPostDatabase) {
        self.database = database
    }

    public func start(at date: Date) async throws -> Int64 {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO daily_run (started_at, outcome) VALUES (?, 'running')", arguments: [date])
            return db.lastInsertedRowID
        }
    }

    public func setDay(_ id: Int64, _ day: Day) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE daily_run SET day = ? WHERE id = ?", arguments: [day.description, id])
        }
    }

    public func finish(_ id: Int64, outcome: DailyRun.Outcome, detail: String?, at date: Date) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE daily_run SET outcome = ?, detail = ?, finished_at = ? WHERE id = ?",
                arguments: [outcome.rawValue, detail, date, id])
        }
    }

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
