import Foundation

/// A real IMAP and POP3 server (Dovecot) on 127.0.0.1, with one user and one Maildir, started by
/// `Tests/Support/imap_server.py`. Mail is delivered into it as an MTA's local delivery does:
/// a file written in the Maildir's `tmp/` and renamed into `new/`.
public final class LocalIMAPServer: Sendable {
    public let port: Int
    public let pop3Port: Int
    public let maildir: URL
    public let user: String
    public let password: String
    private let process: ScriptProcess
    private let directory: URL

    public init(user: String = "bounces", password: String = "imap-test-password") async throws {
        directory = try TemporaryDirectory.make(prefix: "imap-server")
        do {
            process = try await ScriptProcess(
                script: ScriptProcess.supportScript("imap_server.py"),
                arguments: ["--directory", directory.path, "--user", user, "--password", password])
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        port = process.port
        guard let line = await process.readLine(), line.hasPrefix("MAILDIR ") else {
            process.stop()
            throw LocalIMAPServerError.badAnnouncement
        }
        maildir = URL(fileURLWithPath: String(line.dropFirst("MAILDIR ".count)))
        guard let pop3 = await process.readLine(), pop3.hasPrefix("POP3 "), let pop3Port = Int(pop3.dropFirst(5)) else {
            process.stop()
            throw LocalIMAPServerError.badAnnouncement
        }
        self.pop3Port = pop3Port
        self.user = user
        self.password = password
    }

    deinit {
        stop()
    }

    /// "imap://127.0.0.1:PORT/INBOX".
    public var url: String { "imap://127.0.0.1:\(port)/INBOX" }

    /// "pop3://127.0.0.1:PORT".
    public var pop3URL: String { "pop3://127.0.0.1:\(pop3Port)" }

    /// Delivers a message into the mailbox.
    public func deliver(_ message: String, name: String) throws {
        let temporary = maildir.appendingPathComponent("tmp/\(name)")
        try Data(message.utf8).write(to: temporary)
        try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: temporary.path)
        try FileManager.default.moveItem(at: temporary, to: maildir.appendingPathComponent("new/\(name)"))
    }

    /// Messages still in the mailbox (new or seen), and which of them carry the Flagged flag.
    public func remaining() throws -> (count: Int, flagged: Int) {
        var count = 0
        var flagged = 0
        for folder in ["new", "cur"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent(folder).path) {
                count += 1
                if let flags = name.split(separator: ",").last, name.contains(":2,"), flags.contains("F") { flagged += 1 }
            }
        }
        return (count, flagged)
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

public enum LocalIMAPServerError: Error {
    case badAnnouncement
}
