import Foundation
import PaperPostCore

/// Writes each message as `<outbox>/<day>/<address>.eml` (a notice such as a confirmation as
/// `<address>.<kind>.eml`) with an `.html` preview beside it,
/// each through a temporary file and a rename, so a reader never sees half a file. What
/// `make demo` uses, and the default when no SMTP URL is configured.
public struct OutboxTransport: MailTransport {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var name: String { "outbox \(directory)" }

    public func makeLane() throws -> any MailLane {
        Lane(directory: URL(fileURLWithPath: directory))
    }

    struct Lane: MailLane {
        let directory: URL

        func send(_ messages: [OutgoingMessage], settled: @escaping @Sendable (Int, TransportResult, String?) -> Void) async {
            for (index, message) in messages.enumerated() {
                if let claim = message.claim, case .withhold(let reason) = await claim().value() {
                    settled(index, .withheld(reason: reason), nil)
                } else {
                    settled(index, write(message), nil)
                }
            }
        }

        func write(_ message: OutgoingMessage) -> TransportResult {
            let folder = directory.appendingPathComponent(message.day.description, isDirectory: true)
            let name = Self.fileName(for: message.recipient) + (message.kind.map { ".\(Self.fileName(for: $0))" } ?? "")
            let base = folder.appendingPathComponent(name)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try Data(message.bytes).write(to: base.appendingPathExtension("eml"), options: .atomic)
                if let preview = message.preview() {
                    try Data(preview.utf8).write(to: base.appendingPathExtension("html"), options: .atomic)
                }
                return .accepted(code: nil, reply: "written to \(base.path).eml")
            } catch {
                return .temporary(code: nil, reply: "cannot write to \(folder.path): \((error as NSError).localizedDescription)")
            }
        }

        /// The address as a file name: only the characters an address may hold that are safe in
        /// a path; `/` and a leading dot cannot occur after this.
        static func fileName(for address: String) -> String {
            let safe = address.map { character -> Character in
                character.isLetter || character.isNumber || "@.-_+".contains(character) ? character : "_"
            }
            let name = String(safe)
            return name.hasPrefix(".") ? "_" + name.dropFirst() : name
        }
    }
}
