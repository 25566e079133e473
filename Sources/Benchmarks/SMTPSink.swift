import Foundation

/// Postfix's `smtp-sink` on 127.0.0.1, on the port `PAPERPOST_BENCH_SINK_PORT` names or on a
/// free one, ready (listening) when `start` returns.
struct SMTPSink {
    let port: Int
    let process: Process

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-sink") }

    static func start() throws -> SMTPSink {
        let fixed = ProcessInfo.processInfo.environment["PAPERPOST_BENCH_SINK_PORT"].flatMap(Int.init)
        let taken = listeningPorts()
        guard let port = fixed ?? (20_000..<30_000).shuffled().first(where: { !taken.contains($0) }) else {
            throw SinkFailed(reason: "no free port in 20000-29999; set PAPERPOST_BENCH_SINK_PORT")
        }
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-sink")
        sink.arguments = ["-u", "nobody", "127.0.0.1:\(port)", "1000"]
        sink.standardOutput = FileHandle.nullDevice
        try sink.run()
        // Ready when the kernel lists the port as listening; gone if smtp-sink could not bind.
        while !listeningPorts().contains(port) {
            guard sink.isRunning else { throw SinkFailed(reason: "smtp-sink exited: is port \(port) taken?") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return SMTPSink(port: port, process: sink)
    }

    /// smtp-sink shrugs off SIGTERM once it has dropped privileges.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The TCP ports something listens on (IPv4 and IPv6), from `/proc/net/tcp*`.
    static func listeningPorts() -> Set<Int> {
        var ports: Set<Int> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                // "  0: 0100007F:4E21 00000000:0000 0A ..." — local address, remote address, state (0A: listen).
                let fields = line.split(separator: " ")
                guard fields.count > 3, fields[3] == "0A", let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }) else {
                    continue
                }
                ports.insert(port)
            }
        }
        return ports
    }
}

struct SinkFailed: Error, CustomStringConvertible {
    let reason: String
    var description: String { "cannot start smtp-sink: \(reason)" }
}
