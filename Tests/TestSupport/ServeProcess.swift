import Foundation

/// `paperpost serve --port 0` as its own process, as an operator runs it; its stderr (the
/// request log) goes to `serve.log` in `directory`.
public final class ServeProcess: Sendable {
    public let port: Int
    public let logFile: URL
    private let process: Process

    public enum StartError: Error, CustomStringConvertible {
        case didNotListen(log: String)

        public var description: String {
            switch self {
            case .didNotListen(let log): "paperpost serve did not start listening within 10 s; it wrote: \(log)"
            }
        }
    }

    /// Starts the server and waits until it says which port it listens on.
    public init(executable: URL, directory: URL, environment: [String: String]) async throws {
        logFile = directory.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process = Process()
        process.executableURL = executable
        process.arguments = ["serve", "--port", "0", "--transport", "outbox"]
        process.currentDirectoryURL = directory
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].merging(environment) { $1 }
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var port: Int?
        for _ in 0..<100 where port == nil {
            let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            if let range = log.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last ?? "")
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            throw StartError.didNotListen(log: (try? String(contentsOf: logFile, encoding: .utf8)) ?? "")
        }
        self.port = port
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// What the server has logged so far.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM and waits up to `timeout` for the process to end.
    ///
    /// - Returns: its exit status, or `nil` when it was still running (it is then killed).
    public func terminate(timeout: Duration = .seconds(10)) async throws -> Int32? {
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : nil
    }
}
