import Foundation
import Synchronization

/// One of the Python peers in `Tests/Support`, running as a child process that listens on
/// 127.0.0.1. The script announces "PORT <n>" as its first stdout line and exits when its stdin
/// closes, so it never outlives a test process that dies without calling `stop()`.
///
/// A script may announce more lines after the port (see `readLine()`).
///
/// The interpreter is `PAPERPOST_TEST_PYTHON` (which `make test` points at the test virtualenv)
/// or else `python3` from PATH.
public final class ScriptProcess: Sendable {
    /// The port the script announced.
    let port: Int
    private let process: ProcessBox
    private let stdin: Pipe
    private let stdout: LineReader
    private let stopped = Mutex(false)

    /// `Tests/Support`, found next to this file so tests work from any working directory.
    static let supportDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Support")

    static func supportScript(_ name: String) -> URL {
        supportDirectory.appendingPathComponent(name)
    }

    /// `PAPERPOST_TEST_PYTHON`, else the repository's `.venv` (made by `make test-deps`) so a
    /// plain `swift test` finds aiosmtpd too, else `python3`.
    public static var python: String {
        if let python = ProcessInfo.processInfo.environment["PAPERPOST_TEST_PYTHON"] { return python }
        let venv = supportDirectory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }

    /// Starts `script` with `arguments` and waits until it has announced its port.
    /// - Throws: `ScriptProcessError.didNotAnnounce` when the first line is not "PORT <n>" (the
    ///   script's stderr is inherited, so its complaint shows in the test log), or whatever
    ///   `Process.run` throws.
    init(script: URL, arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [Self.python, script.path] + arguments
        let stdout = Pipe()
        stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        try process.run()
        self.process = ProcessBox(process)
        self.stdout = LineReader(stdout.fileHandleForReading)

        let firstLine = await self.stdout.next()
        guard let firstLine, firstLine.hasPrefix("PORT "), let port = Int(firstLine.dropFirst(5)) else {
            if process.isRunning {
                process.terminate()
            }
            process.waitUntilExit()
            throw ScriptProcessError.didNotAnnounce(firstLine: firstLine, exitStatus: process.terminationStatus)
        }
        self.port = port
    }

    deinit {
        stop()
    }

    /// Closes the script's stdin and kills it. Safe to call more than once.
    func stop() {
        let alreadyStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !alreadyStopped else {
            return
        }
        try? stdin.fileHandleForWriting.close()
        process.terminateAndWait()
    }

    /// The next line the script printed after "PORT <n>" (for scripts that announce more than
    /// a port), without its newline; nil once stdout has ended.
    func readLine() async -> String? {
        await stdout.next()
    }
}

/// Lines from a pipe. Each read runs on a plain thread: it blocks, and Swift's cooperative pool
/// must not. Bytes after a line stay buffered for the next call.
private final class LineReader: Sendable {
    private let handle: FileHandle
    private let buffer = Mutex(Data())

    init(_ handle: FileHandle) {
        self.handle = handle
    }

    func next() async -> String? {
        await onOwnThread { self.nextBlocking() }
    }

    private func nextBlocking() -> String? {
        buffer.withLock { bytes in
            while true {
                if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: bytes[bytes.startIndex..<newline], as: UTF8.self)
                    bytes = Data(bytes[bytes.index(after: newline)...])
                    return line
                }
                let chunk = handle.availableData
                if chunk.isEmpty {
                    defer { bytes = Data() }
                    return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
                }
                bytes.append(chunk)
            }
        }
    }
}

enum ScriptProcessError: Error {
    case didNotAnnounce(firstLine: String?, exitStatus: Int32)
}

/// `Process` is not Sendable. `@unchecked Sendable` is safe here because the box only exposes
/// `terminateAndWait`, which ScriptProcess.stop calls at most once (guarded by its Mutex).
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

extension ScriptProcess {
    /// Runs the one-shot checker `script` on `bytes` (written to a temporary `message.eml`, whose
    /// path comes first), with `arguments` after it, and decodes the JSON it prints.
    static func check<Verdict: Decodable>(_ script: String, _ bytes: [UInt8], arguments: [String] = []) throws -> Verdict {
        let directory = try TemporaryDirectory.make(prefix: "check")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("message.eml")
        try Data(bytes).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, supportScript(script).path, file.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(Verdict.self, from: data)
    }
}
