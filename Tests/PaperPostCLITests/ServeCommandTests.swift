import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TestSupport
import Testing

/// `paperpost serve` as an operator runs it: a process that logs its requests and stops on SIGTERM.
@Suite("paperpost serve")
struct ServeCommandTests {
    /// Everything a process wrote to a pipe so far.
    final class Output: Sendable {
        let text = Mutex("")

        init(_ pipe: Pipe) {
            pipe.fileHandleForReading.readabilityHandler = { [self] handle in
                let data = handle.availableData
                text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }

        var current: String { text.withLock { $0 } }
    }

    func get(_ url: URL) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test("serve logs one line per request without the link's token, and exits 0 on SIGTERM")
    func logsAndStops() async throws {
        try await withTemporaryDirectory { directory in
            let process = Process()
            process.executableURL = CommandLineRunner.executable
            process.arguments = ["serve", "--port", "0", "--transport", "outbox"]
            process.currentDirectoryURL = directory
            process.environment = [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                "PAPERPOST_TEMPLATES": CurateCommandTests.templates, "PAPERPOST_SECRET": "serve-test",
            ]
            let stderr = Pipe()
            process.standardError = stderr
            process.standardOutput = FileHandle.nullDevice
            let output = Output(stderr)
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

            var port: Int?
            for _ in 0..<300 where port == nil {
                if let range = output.current.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                    port = Int(output.current[range].split(separator: ":").last ?? "")
                } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let base = try #require(port.map { "http://127.0.0.1:\($0)" }, "the server announces its port; it wrote: \(output.current)")
            let health = try await get(try #require(URL(string: "\(base)/healthz")))
            #expect(health.0 == 200 && health.1 == "ok\n")
            let secretToken = "u.1.0.c2VjcmV0LXRva2VuLXZhbHVlLW5vdC1pbi1sb2dz"
            #expect(try await get(try #require(URL(string: "\(base)/unsubscribe?token=\(secretToken)"))).0 == 400)

            kill(process.processIdentifier, SIGTERM)
            for _ in 0..<100 where process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(!process.isRunning, "SIGTERM stops the server within 10 s")
            process.waitUntilExit()
            #expect(process.terminationReason == .exit && process.terminationStatus == 0)
            let log = output.current
            #expect(log.contains("path=/healthz") && log.contains("status=200"))
            #expect(log.contains("path=/unsubscribe") && log.contains("status=400"))
            #expect(!log.contains("c2VjcmV0LXRva2Vu"), "tokens never reach the log")
        }
    }
}
