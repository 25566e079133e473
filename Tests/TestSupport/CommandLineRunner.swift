import Foundation

/// What a run of the built `paperpost` executable produced.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs the real `paperpost` binary (built alongside the tests) as an operator would.
public struct CommandLineRunner: Sendable {
    public var directory: URL
    public var environment: [String: String]

    /// - Parameter directory: the working directory; the database defaults to `var/` under it.
    public init(directory: URL, environment: [String: String] = [:]) {
        self.directory = directory
        self.environment = environment
    }

    public static var executable: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("paperpost")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) {
            return besideTests
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/paperpost")
    }

    public func run(_ arguments: String...) async throws -> CommandResult {
        try await run(arguments)
    }

    public func run(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        // Only what the test gives, plus PATH: the developer's own PAPERPOST_* must not leak in.
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        environment.merge(self.environment) { $1 }
        process.environment = environment

        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        let (ended, markEnded) = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in markEnded.finish() }
        try process.run()
        // Each pipe on its own thread, so a child that fills one while we block on another
        // cannot deadlock, and no read holds one of the cooperative pool's few threads.
        let input = Data((input ?? "").utf8)
        async let written: Void = onOwnThread {
            if !input.isEmpty {
                try? stdin.fileHandleForWriting.write(contentsOf: input)
            }
            try? stdin.fileHandleForWriting.close()
        }
        async let out = onOwnThread { stdout.fileHandleForReading.readDataToEndOfFile() }
        async let err = onOwnThread { stderr.fileHandleForReading.readDataToEndOfFile() }
        let (_, outData, errData) = await (written, out, err)
        for await _ in ended {}
        // Returns at once (the child has ended), and breaks corelibs-foundation's cycle between
        // a Process and its run-loop source, which otherwise keeps the Process and its pipes'
        // read ends open until the test process ends (the Makefile's `test` says why open
        // descriptors matter).
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}
