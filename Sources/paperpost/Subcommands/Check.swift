import ArgumentParser
import Foundation
import PaperPostCore
import PostgresStore
import Preflight

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration a real send needs: links, From domain, DKIM, relay, bounces, the model.",
        discussion: """
            Each item is ok, warn or fail, with what to do. `send --transport smtp` and `daily`
            refuse to mail while a fail remains (unless --force-unsafe). --live also talks to
            the relay (EHLO, STARTTLS, AUTH; no mail is sent) and makes one tiny model call.
            Exits 0 when nothing fails, 1 otherwise.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Also connect to the SMTP relay and call the model.")
    var live = false

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let settings = try await global.settings()
        var items = Preflight.check(settings)
        if live {
            items += await Preflight.live(settings)
            if settings.storesInPostgreSQL { items.append(await Self.store(settings)) }
        }
        var listing = Listing(columns: ["item", "level", "detail"])
        for item in items {
            listing.append([.text(item.item), .text(item.level.rawValue), .text(item.detail)])
        }
        Terminal.write(listing.rendered(as: format))
        if items.contains(where: { $0.level == .fail }) { throw ExitCode(ExitStatus.badInput.rawValue) }
    }
}

extension Check {
    /// Connects to a PostgreSQL store and says whether it has room for this host's pools.
    static func store(_ settings: Settings) async -> PreflightItem {
        do {
            let facts = try await PostgresDatabase.probe(try PostgresLocation(url: settings.databasePath))
            let send = settings.delivery.connections + 4
            let detail =
                "connected: PostgreSQL \(facts.version), max_connections \(facts.maxConnections); from this host a send opens \(send) "
                + "(SMTP connections + 4) and a serve 8" + (facts.hasSchema ? "" : "; PaperPost's tables are not there yet (the first command creates them)")
            return PreflightItem("database_live", facts.maxConnections < send + 8 ? .warn : .ok, detail)
        } catch {
            return PreflightItem("database_live", .fail, "\(error)")
        }
    }
}

extension SendingOptions {
    /// A send to real subscribers with a fail in `paperpost check` is refused: it would
    /// mail links to localhost, a From address at example.org, or unsigned mail whose bounces
    /// nobody reads.
    static func refuseUnsafe(_ settings: Settings, force: Bool) throws {
        let failures = Preflight.check(settings).filter { $0.level == .fail }
        guard !failures.isEmpty, !force else { return }
        throw ValidationError(
            "refusing to mail subscribers while `paperpost check` fails:\n"
                + failures.map { "  \($0.item): \($0.detail)" }.joined(separator: "\n")
                + "\nFix these, or pass --force-unsafe (a local test relay).")
    }
}
