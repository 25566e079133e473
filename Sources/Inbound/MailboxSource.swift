import Foundation

/// Where inbound messages come from when they are not piped in one at a time: a Maildir (as
/// Postfix, Dovecot and procmail write them) or an mbox file.
public enum MailboxSource: Sendable {
    case maildir(String)
    case mbox(String)

    /// One message and what to do with it once it is recorded.
    public struct Message: Sendable {
        public var bytes: [UInt8]
        /// Where it came from, for reports: a file, or `file:N` for the Nth mbox message.
        public var origin: String
        /// A Maildir message still in `new/`, to be moved to `cur/` once recorded.
        var maildirFile: String?

        public init(bytes: [UInt8], origin: String) {
            self.bytes = bytes
            self.origin = origin
        }

        init(bytes: [UInt8], origin: String, maildirFile: String?) {
            self.bytes = bytes
            self.origin = origin
            self.maildirFile = maildirFile
        }
    }

    public enum SourceError: Error, CustomStringConvertible {
        case notMaildir(String)
        case unreadable(String, String)

        public var description: String {
            switch self {
            case .notMaildir(let path): "\(path): not a Maildir (it needs new/ and cur/ directories)"
            case .unreadable(let path, let why): "\(path): cannot be read: \(why)"
            }
        }
    }

    /// The messages waiting: a Maildir's `new/` (delivered, never read), an mbox's every message.
    public func messages() throws(SourceError) -> [Message] {
        switch self {
        case .maildir(let path):
            let new = (path as NSString).appendingPathComponent("new")
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: new, isDirectory: &isDirectory), isDirectory.boolValue,
                FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("cur"))
            else { throw .notMaildir(path) }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: new).filter { !$0.hasPrefix(".") }.sorted() } catch {
                throw .unreadable(new, error.localizedDescription)
            }
            var result: [Message] = []
            for name in names {
                let file = (new as NSString).appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: file) else { throw .unreadable(file, "no such file or no permission") }
                result.append(Message(bytes: Array(data), origin: file, maildirFile: file))
            }
            return result
        case .mbox(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path, "no such file or no permission") }
            return Self.splitMbox(Array(data)).enumerated().map { index, bytes in
                Message(bytes: bytes, origin: "\(path):\(index + 1)", maildirFile: nil)
            }
        }
    }

    /// Marks a recorded Maildir message as read (`cur/NAME:2,S`), or flagged (`F`) when a person
    /// should look at it. Messages are never deleted.
    public func markDone(_ message: Message, flagged: Bool) throws {
        guard case .maildir(let path) = self, let file = message.maildirFile else { return }
        let name = (file as NSString).lastPathComponent.split(separator: ":").first.map(String.init) ?? ""
        let target = (path as NSString).appendingPathComponent("cur/\(name):2,\(flagged ? "FS" : "S")")
        try FileManager.default.moveItem(atPath: file, toPath: target)
    }

    /// mboxrd: messages start at "From " lines after a blank line (or the file's start);
    /// ">From " quoting inside bodies is undone.
    static func splitMbox(_ bytes: [UInt8]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var current: [UInt8]?
        var lineStart = 0
        var previousBlank = true
        let from = Array("From ".utf8)
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
            let line = bytes[lineStart..<lineEnd]
            if previousBlank, line.starts(with: from) {
                if let current { messages.append(Self.trimmingSeparator(current)) }
                current = []
            } else if current != nil {
                var unquoted = line[...]
                if unquoted.first == 0x3E, unquoted.drop(while: { $0 == 0x3E }).starts(with: from) { unquoted = unquoted.dropFirst() }
                current?.append(contentsOf: unquoted)
            }
            previousBlank = line.allSatisfy { $0 == 0x0A || $0 == 0x0D }
            lineStart = lineEnd
        }
        if let current { messages.append(Self.trimmingSeparator(current)) }
        return messages
    }

    private static func trimmingSeparator(_ message: [UInt8]) -> [UInt8] {
        var message = message
        if message.last == 0x0A { message.removeLast() }
        if message.last == 0x0D { message.removeLast() }
        return message
    }
}
