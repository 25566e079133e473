import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real HTTP server on 127.0.0.1 that plays scripted responses, backed by
/// `Tests/Support/fixture_http_server.py`. Tests talk to it over real sockets, so retries,
/// timeouts, compression and redirects are exercised end to end without leaving the machine.
///
/// Always pair it with `defer { server.stop() }`. If the test process dies instead, the server
/// sees its stdin close and exits on its own.
public final class LocalHTTPServer: Sendable {
    public let port: Int
    /// "http://127.0.0.1:PORT", without a trailing slash.
    public let baseURL: String
    private let process: ProcessBox
    private let stdin: Pipe
    private let directory: URL
    private let stopped = Mutex(false)

    /// The fixture script, found next to this file so tests work from any working directory.
    public static let scriptURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Support/fixture_http_server.py")

    /// Starts the server and waits until it listens.
    /// - Parameter routes: request target ("/path" or "/path?query") to the responses it gets
    ///   in turn; the last one repeats.
    public init(routes: [String: [FixtureResponse]]) async throws {
        directory = try TemporaryDirectory.make(prefix: "fixture-http")
        let routesFile = directory.appendingPathComponent("routes.json")
        try JSONEncoder().encode(routes).write(to: routesFile)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.scriptURL.path, "--routes", routesFile.path]
        let stdout = Pipe()
        stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        try process.run()
        self.process = ProcessBox(process)

        let firstLine = await Self.readLine(from: stdout.fileHandleForReading)
        guard let firstLine, firstLine.hasPrefix("PORT "), let port = Int(firstLine.dropFirst(5)) else {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
            throw LocalHTTPServerError.didNotStart(firstLine: firstLine, exitStatus: process.terminationStatus)
        }
        self.port = port
        baseURL = "http://127.0.0.1:\(port)"
    }

    deinit {
        stop()
    }

    /// `path` starts with "/" and may carry a query.
    public func url(_ path: String) -> String {
        baseURL + path
    }

    /// Every request the server has received so far, in arrival order.
    public func requests() async throws -> [RecordedRequest] {
        guard let url = URL(string: url("/__requests")) else {
            throw LocalHTTPServerError.badURL(baseURL)
        }
        let (data, _) = try await URLSession.shared.data(from: url)
        return try JSONDecoder().decode([RecordedRequest].self, from: data)
    }

    /// Kills the server and removes its files. Safe to call more than once.
    public func stop() {
        let alreadyStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !alreadyStopped else {
            return
        }
        try? stdin.fileHandleForWriting.close()
        process.terminateAndWait()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Reads the announcement line on a plain thread: the read blocks, and Swift's cooperative
    /// pool must not.
    private static func readLine(from handle: FileHandle) async -> String? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var bytes = Data()
                while !bytes.contains(UInt8(ascii: "\n")) {
                    let chunk = handle.availableData
                    if chunk.isEmpty {
                        break
                    }
                    bytes.append(chunk)
                }
                let line = String(decoding: bytes, as: UTF8.self)
                    .split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first
                continuation.resume(returning: line.map(String.init))
            }
        }
    }
}

public enum LocalHTTPServerError: Error, CustomStringConvertible {
    case didNotStart(firstLine: String?, exitStatus: Int32)
    case badURL(String)

    public var description: String {
        switch self {
        case .didNotStart(let line, let status):
            "fixture_http_server.py did not announce its port (first line: \(line ?? "none"), exit status \(status)); see its stderr above"
        case .badURL(let url):
            "not a URL: \(url)"
        }
    }
}

/// `Process` is not Sendable. `@unchecked Sendable` is safe here because the box only exposes
/// `terminateAndWait`, which LocalHTTPServer.stop calls at most once (guarded by its Mutex).
private final class ProcessBox: @unchecked Sendable {
    private let process: Process

    init(_ process: Process) {
        self.process = process
    }

    func terminateAndWait() {
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
    }
}
