import ArgumentParser
import Foundation
import PaperPostCore
import PaperPostStore

/// Flags every command shares. They win over the environment and the configuration file.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The SQLite database file, or a postgres:// URL (PAPERPOST_DB).", valueName: "path"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("A file of PAPERPOST_…=value lines (PAPERPOST_CONFIG).", valueName: "file"))
    var config: String?

    /// Environment, then configuration file, then these flags.
    func settings() async throws -> Settings {
        let environment = ProcessInfo.processInfo.environment
        var settings = try await Settings.load(
            environment: environment, configFile: config ?? environment["PAPERPOST_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
) { warning in
            Terminal.error(warning)
        }
        if let db {
            do { settings.databasePath = try Settings.checkDatabasePath(db, name: "--db") } catch { throw ValidationError(error.description) }
        }
        return settings
    }

    /// The list on whichever engine `PAPERPOST_DB` names, open for the length of `body`.
    func withSubscribers<T: Sendable>(_ body: (any SubscriberRegistry, Settings) async throws -> T) async throws -> T {
        let settings = try await settings()
        return try await withStores(settings, connections: 1) { try await body($0.subscribers, settings) }
    }

    /// The delivery log on whichever engine `PAPERPOST_DB` names, open for the length of `body`.
    func withDeliveryLog<T: Sendable>(_ body: (any DeliveryLog) async throws -> T) async throws -> T {
        try await withStores(try await settings(), connections: 2) { try await body($0.sending.deliveries) }
    }
}

/// `--date YYYY-MM-DD`.
extension Day: ExpressibleByArgument {
    public init?(argument: String) {
        guard let day = try? Day(parsing: argument) else { return nil }
        self = day
    }
}

extension OutputFormat: ExpressibleByArgument {}
extension Language: ExpressibleByArgument {}
extension SubscriberStatus: ExpressibleByArgument {}
