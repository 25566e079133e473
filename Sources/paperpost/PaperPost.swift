import ArgumentParser
import Foundation

@main
struct PaperPost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paperpost",
        abstract: "A daily digest of new arXiv AI papers, curated and mailed to subscribers.",
        discussion: """
            Configuration comes from PAPERPOST_* environment variables, an optional file of
            PAPERPOST_…=value lines (--config or PAPERPOST_CONFIG), and flags; flags win.
            Exit codes: 0 success, 1 bad usage or input, 2 failure, 3 partial.
            """,
        version: PaperPostVersion.current,
        subcommands: [
            Daily.self, Fetch.self, Curate.self, Send.self, DigestCommand.self, Preview.self, Deliveries.self, Papers.self,
            Subscribers.self, Categories.self, Serve.self,
        ]
    )

    /// Runs the command and maps every outcome to the documented exit codes, since
    /// ArgumentParser's own convention (64 for usage errors) is not the one scripts rely on.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            Terminal.error(message)
            Foundation.exit(1)
        }
        do {
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                var command = command
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch let error as CleanExit {
            print(fullMessage(for: error))
            Foundation.exit(0)
        } catch {
            Terminal.error("paperpost: \(error)")
            Foundation.exit(ExitStatus.for(error).rawValue)
        }
    }
}
