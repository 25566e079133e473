import Foundation
import TestSupport
import Testing

/// Help is an answer, not an error: on stdout with exit 0, for every command, whichever way it
/// is asked for.
@Suite("paperpost help")
struct HelpTests {
    func run(_ arguments: [String]) async throws -> CommandResult {
        try await withTemporaryDirectory { directory in
            try await CommandLineRunner(directory: directory).run(arguments)
        }
    }

    /// The names under SUBCOMMANDS in a help screen: lines indented by exactly two spaces
    /// (wrapped abstracts are indented further), without ArgumentParser's `(default)` mark.
    func subcommands(inHelp help: String) -> [String] {
        guard let section = help.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first else { return [] }
        var names: [String] = []
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first, !line.hasPrefix("  See ")
            else { continue }
            names.append(String(name))
        }
        return names
    }

    /// Every command path, found by reading each command's own help, as a user would.
    func commandTree() async throws -> [[String]] {
        var paths: [[String]] = []
        var pending: [[String]] = [[]]
        while let path = pending.popLast() {
            paths.append(path)
            let help = try await run(path + ["--help"])
            pending += subcommands(inHelp: help.stdout).filter { $0 != "help" }.map { path + [$0] }
        }
        return paths
    }

    @Test("every command answers --help and `help <command>` on stdout with exit 0")
    func everyCommand() async throws {
        let paths = try await commandTree()
        let found = Set(paths.map { $0.joined(separator: " ") })
        #expect(found.isSuperset(of: [
            "", "daily", "fetch", "curate", "send", "digest", "digest show", "preview", "deliveries", "deliveries list",
            "deliveries stats", "papers", "papers list", "subscribers", "subscribers add", "subscribers import",
            "subscribers export", "categories", "serve",
        ]), "the walk found \(found.sorted())")
        for path in paths {
            let usage = "USAGE: " + (["paperpost"] + path).joined(separator: " ")
            for arguments in [path + ["--help"], path + ["-h"], ["help"] + path] {
                let result = try await run(arguments)
                #expect(result.status == 0, "paperpost \(arguments.joined(separator: " ")): \(result.stderr)")
                #expect(result.stdout.contains(usage), "paperpost \(arguments.joined(separator: " ")): \(result.stdout)")
                #expect(result.stderr.isEmpty, "paperpost \(arguments.joined(separator: " ")): \(result.stderr)")
            }
        }
    }

    @Test("`paperpost --help` describes the tool and lists its commands")
    func rootHelp() async throws {
        let result = try await run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("OVERVIEW: A daily digest of new arXiv AI papers"))
        #expect(result.stdout.contains("USAGE: paperpost <subcommand>"))
        #expect(subcommands(inHelp: result.stdout).contains("send"))
        #expect(!result.stdout.contains("CommandError") && !result.stderr.contains("CommandError"))
    }

    @Test("--version prints the version; a usage error exits 1 with the usage on stderr")
    func versionAndUsage() async throws {
        let version = try await run(["--version"])
        #expect(version.status == 0 && version.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
        let usage = try await run(["send", "--no-such-flag"])
        #expect(usage.status == 1)
        #expect(usage.stderr.contains("Unknown option '--no-such-flag'") && usage.stderr.contains("Usage: paperpost send"))
        #expect(usage.stdout.isEmpty)
    }
}
