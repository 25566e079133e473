import Foundation

/// `paperpost serve --port 0` as its own process, as an operator runs it; its stderr (the
/// request log) goes to `serve.log` in `directory`.
public final class ServeProcess: Sendable {
    public let port: Int
    public let logFile: URL
    private let process: Process

    public enum StartError: Error, CustomStringConvertible {
        case didNotListen(log: String, exitStatus: Int32?, waited: Duration)

        public var description: String {
            switch self {
            case .didNotListen(let log, let status?, _):
                "paperpost serve exited with status \(status) before it listened; it wrote: \(log)"
            case .didNotListen(let log, nil, let waited):
                "paperpost serve did not start listening within \(waited); it wrote: \(log)"
            }
        }
    }

    /// Starts the server and waits until it says which port it listens on, or exits, or
    /// `timeout` passes (generous: a debug build starting beside a busy build can be slow).
    public init(executable: URL, directory: URL, environment: [String: String], timeout: Duration = .seconds(120)) async throws {
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
        let deadline = ContinuousClock.now + timeout
        var port: Int?
        while port == nil, process.isRunning, ContinuousClock.now < deadline {
            let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            if let range = log.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last ?? "")
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let port else {
            let exitStatus = process.isRunning ? nil : process.terminationStatus
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw StartError.didNotListen(
                log: (try? String(contentsOf: logFile, encoding: .utf8)) ?? "", exitStatus: exitStatus, waited: timeout)
        }
        self.port = port
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// What the server has logged so far.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM and waits up to `timeout` for the process to end (generous by default: a
    /// graceful stop on a loaded machine may take seconds, while one that ignores SIGTERM never
    /// comes).
    ///
    /// - Returns: its exit status, or `nil` when it was still running (it is then killed).
    public func terminate(timeout: Duration = .seconds(60)) async throws -> Int32? {
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
