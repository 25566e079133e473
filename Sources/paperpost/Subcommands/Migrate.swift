import ArgumentParser
import Foundation
import PaperPostCore
import PaperPostStore
import PostgresStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a SQLite installation into a new PostgreSQL database.",
        discussion: """
            Everything is copied, whole or not at all: subscribers and their history, papers,
            digests, the delivery log, bounces, runs, and the key that signs emailed links (so
            links in mail already sent keep working). The source is read from one snapshot, so
            the web server may keep running; what it writes after the copy starts is not
            copied. A send that is running is waited for: migrate refuses while one holds a lease.
            The target must be a new database (createdb paperpost): one with PaperPost rows or
            another application's tables is refused untouched. The URL is libpq's:
            postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable|prefer|require.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The installation to copy (default: sqlite:PAPERPOST_DB).", valueName: "sqlite:path"))
    var from: String?

    @Option(help: ArgumentHelp("The PostgreSQL database to copy it into.", valueName: "postgres://…"))
    var to: String

    @Option(help: "table, csv or json: the rows copied per table.")
    var format: OutputFormat = .table

    func run() async throws {
        let settings = try await global.settings()
        let path = try sourcePath(default: settings.databasePath)
        let target = try PostgresLocation(url: to)
        let source = try PaperPostDatabase.open(path: path)
        let secret = settings.mail.secret == nil ? ServerSecret.generatedKey(besideDatabase: path) : nil

        let progress = ProgressLine()
        let started = ContinuousClock.now
        let report = try await PostgresDatabase.withDatabase(at: target) { database in
            try await InstallationCopy(source: source, secret: secret).copy(to: database) { table, rows in
                progress.show("copying \(table): \(rows) rows")
            }
        }
        progress.clear()

        var listing = Listing(columns: ["table", "rows"])
        for (table, rows) in report.tables {
            listing.append([.text(table), .number(rows)])
        }
        Terminal.write(listing.rendered(as: format))
        let total = report.tables.reduce(0) { $0 + $1.rows }
        let seconds = (ContinuousClock.now - started).formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))
        Terminal.error(
            "copied \(total) rows from \(path) into \(target) in \(seconds)"
                + (report.copiedSecret
                    ? "; the link-signing key came along"
                    : (settings.mail.secret == nil ? "" : "; links are signed with PAPERPOST_SECRET, which every host must keep")))
    }

    /// `--from sqlite:PATH`, or the configured database; it must exist (an empty new file
    /// would copy nothing and leave a stray database behind).
    private func sourcePath(default configured: String) throws -> String {
        var path = configured
        if from == nil, Settings.isPostgresURL(configured) {
            throw ValidationError("PAPERPOST_DB names PostgreSQL already: give the SQLite database to copy with --from sqlite:PATH")
        }
        if let from {
            guard from.hasPrefix("sqlite:"), from.count > "sqlite:".count else {
                throw ValidationError("--from takes sqlite:PATH (the SQLite database to copy), not '\(from)'")
            }
            path = String(from.dropFirst("sqlite:".count))
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("there is no SQLite database at '\(path)' to copy (--from sqlite:PATH)")
        }
        return path
    }
}
