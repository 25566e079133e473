import CCurl
import Curl
import Foundation
import PaperPostCore

/// SMTP over libcurl: STARTTLS required by default (`smtps://` is always encrypted), AUTH as
/// the server offers when a user is configured, and one connection per lane kept open across
/// messages.
public struct SMTPTransport: MailTransport {
    let settings: DeliverySettings
    let url: String

    /// - Throws: ``TransportError`` when no SMTP URL is configured.
    public init(settings: DeliverySettings) throws {
        guard let url = settings.smtpURL else {
            throw TransportError(description: "no SMTP server is configured: set PAPERPOST_SMTP_URL, or use --transport outbox")
        }
        self.settings = settings
        self.url = url
    }

    public var name: String { url }

    public func makeLane() throws -> any MailLane {
        do {
            return Lane(settings: settings, url: url, easy: try CurlEasy())
        } catch {
            throw TransportError(description: "libcurl cannot start: \(error.message)")
        }
    }

    /// One SMTP connection. `@unchecked Sendable`: the easy handle is only touched on `queue`,
    /// one transfer at a time, and `send` awaits each transfer before the next can start.
    final class Lane: MailLane, @unchecked Sendable {
        let settings: DeliverySettings
        let url: String
        let easy: CurlEasy
        let queue = DispatchQueue(label: "paperpost.smtp.lane")

        init(settings: DeliverySettings, url: String, easy: CurlEasy) {
            self.settings = settings
            self.url = url
            self.easy = easy
        }

        func send(_ message: OutgoingMessage) async -> TransportResult {
            await withCheckedContinuation { continuation in
                queue.async {
                    continuation.resume(returning: self.transfer(message))
                }
            }
        }

        /// Blocks the lane's own thread for one message: never called on the cooperative pool.
        private func transfer(_ message: OutgoingMessage) -> TransportResult {
            do {
                try configure(for: message)
                let response = try easy.perform()
                return .accepted(code: response.status, reply: Self.reply(response.responseLines))
            } catch {
                return Self.classify(error)
            }
        }

        private func configure(for message: OutgoingMessage) throws(CurlError) {
            try easy.set(CURLOPT_URL, string: url)
            try easy.set(CURLOPT_PROTOCOLS_STR, string: "smtp,smtps")
            try easy.set(CURLOPT_NOSIGNAL, long: 1)
            try easy.set(CURLOPT_CONNECTTIMEOUT_MS, long: settings.connectTimeout.wholeMilliseconds)
            try easy.set(CURLOPT_TIMEOUT_MS, long: settings.messageTimeout.wholeMilliseconds)
            let useSSL: Int =
                if url.lowercased().hasPrefix("smtps://") { Int(CURLUSESSL_ALL.rawValue) }
                else {
                    switch settings.tls {
                    case .required: Int(CURLUSESSL_ALL.rawValue)
                    case .opportunistic: Int(CURLUSESSL_TRY.rawValue)
                    case .off: Int(CURLUSESSL_NONE.rawValue)
                    }
                }
            try easy.set(CURLOPT_USE_SSL, long: useSSL)
            if let caFile = settings.caFile {
                try easy.set(CURLOPT_CAINFO, string: caFile)
            }
            if let user = settings.smtpUser {
                try easy.set(CURLOPT_USERNAME, string: user)
                try easy.set(CURLOPT_PASSWORD, string: settings.smtpPassword ?? "")
            }
            try easy.set(CURLOPT_MAIL_FROM, string: "<\(message.envelopeSender)>")
            try easy.set(CURLOPT_MAIL_RCPT, list: ["<\(message.recipient)>"])
            try easy.setUploadBody(Data(message.bytes))
        }

        static func reply(_ lines: [String]) -> String? {
            lines.last { $0.first?.isNumber == true }
        }

        /// 4xx and connection trouble are worth another try; 5xx is final, except replies about
        /// us rather than the recipient (authentication, policy on the sender's TLS), which a
        /// configuration fix cures and which must not fail the whole list.
        static func classify(_ error: CurlError) -> TransportResult {
            let reply = reply(error.responseLines) ?? error.message
            let code = error.responseCode
            if (400..<500).contains(code) {
                return .temporary(code: code, reply: reply)
            }
            if (500..<600).contains(code) {
                let aboutUs = [530, 534, 535, 538].contains(code) || reply.contains("5.7.0") || reply.contains("5.7.8")
                if aboutUs {
                    return .temporary(code: code, reply: reply + " (check PAPERPOST_SMTP_USER / PAPERPOST_SMTP_PASSWORD / PAPERPOST_SMTP_TLS)")
                }
                return .permanent(code: code, reply: reply, unknownUser: isUnknownUser(code: code, reply: reply))
            }
            return .temporary(code: code == 0 ? nil : code, reply: error.message)
        }

        /// "The address does not exist": RFC 3463's 5.1.x statuses, or the usual wording on
        /// 550/551/553 from servers that send no enhanced code.
        static func isUnknownUser(code: Int, reply: String) -> Bool {
            let lower = reply.lowercased()
            if lower.contains(" 5.1.1") || lower.contains(" 5.1.0") || lower.contains(" 5.1.10") { return true }
            guard [550, 551, 553].contains(code) else { return false }
            return ["user unknown", "unknown user", "no such user", "does not exist", "mailbox not found", "recipient not found", "invalid recipient"]
                .contains { lower.contains($0) }
        }
    }
}
