import Foundation

/// What dkimpy, an independent DKIM implementation, makes of a message's signatures.
public struct DKIMVerdict: Sendable, Decodable {
    public struct Signature: Sendable, Decodable {
        public var selector: String
        public var algorithm: String
        public var valid: Bool
    }

    public var signatures: [Signature]

    /// Verifies every signature of `bytes` with `Tests/Support/dkim_verify.py`, answering DNS
    /// lookups from `records` (name → TXT value) only.
    public static func check(_ bytes: [UInt8], records: [(name: String, record: String)]) throws -> DKIMVerdict {
        let directory = try TemporaryDirectory.make(prefix: "dkim")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("message.eml")
        try Data(bytes).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ScriptProcess.python, ScriptProcess.supportScript("dkim_verify.py").path, file.path]
            + records.map { "\($0.name)=\($0.record)" }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(DKIMVerdict.self, from: data)
    }
}
