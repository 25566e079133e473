import Foundation

/// What Python's `email` package makes of a message: an independent check of our MIME.
public struct InspectedMessage: Sendable, Decodable {
    public struct Part: Sendable, Decodable {
        public var content_type: String
        public var charset: String?
        public var transfer_encoding: String?
        public var text: String
    }

    public var defects: [String]
    public var headers: [String: String]
    public var content_type: String
    public var parts: [Part]
    public var bare_line_feeds: Int
    public var bare_carriage_returns: Int
    public var longest_line: Int
    public var lines_over_78: Int

    /// Parses `bytes` with `Tests/Support/parse_mime.py`.
    public static func inspect(_ bytes: [UInt8]) throws -> InspectedMessage {
        let directory = try TemporaryDirectory.make(prefix: "mime")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("message.eml")
        try Data(bytes).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ScriptProcess.python, ScriptProcess.supportScript("parse_mime.py").path, file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(InspectedMessage.self, from: data)
    }
}
