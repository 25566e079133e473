import CCurl
import Curl
import Foundation
import PaperPostCore

/// An IMAP mailbox read over libcurl: search, fetch, then delete or flag each message only
/// after it has been recorded, so a crash in between reads it again (and recording it again
/// changes nothing).
public struct IMAPMailbox: Sendable {
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
    }

    /// A connection to the mailbox; libcurl keeps it open between commands.
    public func open() throws(MailboxError) -> Session {
        do { return Session(settings: settings, url: url, easy: try CurlEasy()) } catch {
            throw MailboxError(description: "libcurl cannot start: \(error.message)")
        }
    }

    /// One connection, used by one task at a time. `@unchecked Sendable`: the handle is only
    /// touched on `queue`, one command at a time.
    public final class Session: @unchecked Sendable {
        let settings: InboundSettings
        let url: String
        let easy: CurlEasy
        let queue = DispatchQueue(label: "paperpost.imap")

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

        init(settings: InboundSettings, url: String, easy: CurlEasy) {
            self.settings = settings
            self.url = url
            self.easy = easy
        }

        /// Messages not yet handled: not deleted, not flagged for a person.
        public func pending() throws(MailboxError) -> [Int] {
            let text = try command("UID SEARCH UNDELETED UNFLAGGED")
            guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("* SEARCH") }) else { return [] }
            return line.dropFirst("* SEARCH".count).split(separator: " ").compactMap { Int($0) }
        }

        public func fetch(uid: Int) throws(MailboxError) -> [UInt8] {
            Array(try perform(url: "\(url);UID=\(uid)", request: nil, what: "fetch message \(uid)").body)
        }

        /// Deletes a recorded message, or flags one a person should read.
        public func markDone(uid: Int, flagged: Bool) throws(MailboxError) {
            _ = try command("UID STORE \(uid) +FLAGS (\(flagged ? "\\Flagged" : "\\Deleted"))")
        }

        /// Removes the messages marked deleted.
        public func expunge() throws(MailboxError) {
            _ = try command("EXPUNGE")
        }

        private func command(_ request: String) throws(MailboxError) -> String {
            String(decoding: try perform(url: url, request: request, what: request).body, as: UTF8.self)
        }

        private func perform(url: String, request: String?, what: String) throws(MailboxError) -> CurlResponse {
            do throws(CurlError) {
                try easy.set(CURLOPT_URL, string: url)
                try easy.set(CURLOPT_PROTOCOLS_STR, string: "imap,imaps")
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
