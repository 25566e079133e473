import ArgumentParser
import Hummingbird
import PaperPostCore
import Web

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the web app: subscribe and confirm, preferences, unsubscribe (RFC 8058 one-click), the archive.",
        discussion: """
            Confirmation mail goes through the same transport as 'send' (SMTP when PAPERPOST_SMTP_URL
            is set, else the outbox). SIGTERM or SIGINT stops the server gracefully: requests in
            flight finish first.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var sending: SendingOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port, which the log names).")
    var port = 8080

    static let portLimit = SettingLimit(0...65_535, wholeNumber: true, "a TCP port; 0 picks a free one")

    func validate() throws {
        try Self.portLimit.validate(port, flag: "--port")
    }

    func run() async throws {
        var settings = try await global.settings()
        let transport = try sending.transport(&settings, refusingUnsafe: false)
        try await global.withStores(settings, connections: 8) { [settings] stores in
            let app = try await buildApplication(settings: settings, stores: try await stores.web(), transport: transport, host: host, port: port)
            try await app.runService()
        }
    }
}
