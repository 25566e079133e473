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
        try ScriptProcess.check("parse_mime.py", bytes)
    }
}
