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
            Subscribers.self, Categories.self, Serve.self, DKIM.self, InboundCommand.self, Check.self, Migrate.self,
        ]
    )

    /// Runs the command and maps every outcome to the documented exit codes, since
    /// ArgumentParser's own convention (64 for usage errors) is not the one scripts rely on.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            // Everything thrown while parsing is ArgumentParser's: help and version are
            // answers, the rest is bad usage.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            Terminal.error(fullMessage(for: error))
            Foundation.exit(ExitStatus.badInput.rawValue)
        }
        do {
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                var command = command
                try command.run()
            }
        } catch {
            finish(with: error)
        }
    }

    /// ArgumentParser's own outcomes first (`help send` and `--help` arrive here, thrown by its
    /// help command's `run()`; so do `CleanExit` and `ExitCode`), then the project's errors by
    /// ``ExitStatus``.
    static func finish(with error: any Error) -> Never {
        if let exit = error as? ExitCode {
            Foundation.exit(exit.rawValue)
        }
        switch exitCode(for: error) {
        case .success:
            print(fullMessage(for: error))
            Foundation.exit(0)
        case .validationFailure where !(error is ValidationError):
            // A usage error from ArgumentParser itself, with the usage that explains it.
            Terminal.error(fullMessage(for: error))
            Foundation.exit(ExitStatus.badInput.rawValue)
        default:
            Terminal.error("paperpost: \(error)")
            Foundation.exit(ExitStatus.for(error).rawValue)
        }
    }
}
