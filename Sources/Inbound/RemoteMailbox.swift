import CCurl
import Curl
import Foundation
import PaperPostCore

/// An IMAP or POP3 mailbox read over libcurl: list, fetch, then delete (or, over IMAP, flag)
/// each message only after it has been recorded, so a crash in between reads it again (and
/// recording it again changes nothing).
///
/// POP3 has no flags: a message a person should read stays on the server (it is also kept in
/// the kept-aside directory) and is listed again, as already recorded, by each poll. POP3
/// deletions take effect when the session ends with QUIT, which libcurl sends when the
/// connection closes; a crash before that leaves them for the next poll.
public struct RemoteMailbox: Sendable {
    public struct MailboxError: Error, CustomStringConvertible {
        public var description: String
    }

    let settings: InboundSettings
    let url: String

    public init(settings: InboundSettings) throws(MailboxError) {
        guard let url = settings.url else {
            throw MailboxError(description: "no mailbox to poll: set PAPERPOST_INBOUND_URL (imaps://mail.example.org/INBOX)")
        }
        self.settings = settings
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        isPOP3 = url.lowercased().hasPrefix("pop3")
    }

    let isPOP3: Bool

    /// A connection to the mailbox; libcurl keeps it open between commands.
    public func open() throws(MailboxError) -> Session {
        do { return Session(settings: settings, url: url, isPOP3: isPOP3, easy: try CurlEasy()) } catch {
            throw MailboxError(description: "libcurl cannot start: \(error.message)")
        }
    }

    /// One connection, used by one task at a time. `@unchecked Sendable`: the handle is only
    /// touched on `queue`, one command at a time.
    public final class Session: @unchecked Sendable {
        let settings: InboundSettings
        let url: String
        let isPOP3: Bool
        let easy: CurlEasy
        let queue = DispatchQueue(label: "paperpost.mailbox")

        /// Runs a blocking libcurl command on the session's own thread, never on the
        /// cooperative pool.
        public func run<T: Sendable>(_ body: @escaping @Sendable (Session) throws(MailboxError) -> T) async throws(MailboxError) -> T {
            let result: Result<T, MailboxError> = await withCheckedContinuation { continuation in
                queue.async {
                    do throws(MailboxError) { continuation.resume(returning: .success(try body(self))) } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
            }
            return try result.get()
        }

        init(settings: InboundSettings, url: String, isPOP3: Bool, easy: CurlEasy) {
            self.settings = settings
            self.url = url
            self.isPOP3 = isPOP3
            self.easy = easy
        }

        /// Messages not yet handled: IMAP UIDs of messages neither deleted nor flagged for a
        /// person, or POP3 message numbers.
        public func pending() throws(MailboxError) -> [Int] {
            if isPOP3 {
                // LIST: "1 1234" per message.
                let text = String(decoding: try perform(url: url + "/", request: nil, what: "LIST").body, as: UTF8.self)
                return text.split(whereSeparator: \.isNewline).compactMap { $0.split(separator: " ").first.flatMap { Int($0) } }
            }
            let text = try command("UID SEARCH UNDELETED UNFLAGGED")
            guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("* SEARCH") }) else { return [] }
            return line.dropFirst("* SEARCH".count).split(separator: " ").compactMap { Int($0) }
        }

        public func fetch(uid: Int) throws(MailboxError) -> [UInt8] {
            let address = isPOP3 ? "\(url)/\(uid)" : "\(url);UID=\(uid)"
            return Array(try perform(url: address, request: nil, what: "fetch message \(uid)").body)
        }

        /// Deletes a recorded message, or flags one a person should read (POP3: leaves it).
        public func markDone(uid: Int, flagged: Bool) throws(MailboxError) {
            if isPOP3 {
                if !flagged { _ = try perform(url: "\(url)/\(uid)", request: "DELE", what: "DELE \(uid)", noBody: true) }
                return
            }
            _ = try command("UID STORE \(uid) +FLAGS (\(flagged ? "\\Flagged" : "\\Deleted"))")
        }

        /// Removes the messages marked deleted (POP3: at the end of the session, by QUIT).
        public func expunge() throws(MailboxError) {
            if isPOP3 { return }
            _ = try command("EXPUNGE")
        }

        private func command(_ request: String) throws(MailboxError) -> String {
            String(decoding: try perform(url: url, request: request, what: request).body, as: UTF8.self)
        }

        private func perform(url: String, request: String?, what: String, noBody: Bool = false) throws(MailboxError) -> CurlResponse {
            do throws(CurlError) {
                try easy.set(CURLOPT_URL, string: url)
                try easy.set(CURLOPT_PROTOCOLS_STR, string: "imap,imaps,pop3,pop3s")
                if noBody { try easy.set(CURLOPT_NOBODY, long: 1) }
                try easy.set(CURLOPT_NOSIGNAL, long: 1)
                try easy.set(CURLOPT_CONNECTTIMEOUT_MS, long: 10_000)
                try easy.set(CURLOPT_TIMEOUT_MS, long: 120_000)
                let useSSL: Int =
                    switch settings.tls {
                    case .required: Int(CURLUSESSL_ALL.rawValue)
                    case .opportunistic: Int(CURLUSESSL_TRY.rawValue)
                    case .off: Int(CURLUSESSL_NONE.rawValue)
                    }
                try easy.set(CURLOPT_USE_SSL, long: useSSL)
                if let caFile = settings.caFile { try easy.set(CURLOPT_CAINFO, string: caFile) }
                if let user = settings.user {
                    try easy.set(CURLOPT_USERNAME, string: user)
                    try easy.set(CURLOPT_PASSWORD, string: settings.password ?? "")
                }
                if let request { try easy.set(CURLOPT_CUSTOMREQUEST, string: request) }
                return try easy.perform()
            } catch {
                let reason =
                    error.code == Int(CURLE_LOGIN_DENIED.rawValue) ? "the server refused the login (PAPERPOST_INBOUND_USER / PAPERPOST_INBOUND_PASSWORD)"
                    : error.code == Int(CURLE_USE_SSL_FAILED.rawValue) ? "the server does not offer STARTTLS (PAPERPOST_INBOUND_TLS)"
                    : error.message
                throw MailboxError(description: "\(self.url): \(what): \(reason)")
            }
        }
    }
}
