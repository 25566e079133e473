import ArgumentParser
import Hummingbird
import Web

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the web app: unsubscribe links (RFC 8058 one-click), the archive, /healthz.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port = 8080

    func run() async throws {
        let (database, settings) = try await global.database()
        let app = try await buildApplication(settings: settings, database: database, host: host, port: port)
        try await app.runService()
    }
}
