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
        try ScriptProcess.check("dkim_verify.py", bytes, arguments: records.map { "\($0.name)=\($0.record)" })
    }
}
