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
    /// - Parameter heloName: the name PaperPost greets the server with (EHLO); libcurl takes it
    ///   from the URL's path, so it is added there when the URL has none.
    /// - Throws: ``TransportError`` when no SMTP URL is configured.
    public init(settings: DeliverySettings, heloName: String? = nil) throws {
        guard let url = settings.smtpURL else {
            throw TransportError(description: "no SMTP server is configured: set PAPERPOST_SMTP_URL, or use --transport outbox")
        }
        self.settings = settings
        if let heloName, let parsed = URL(string: url), parsed.path.isEmpty || parsed.path == "/" {
            self.url = url.hasSuffix("/") ? url + heloName : url + "/" + heloName
        } else {
            self.url = url
        }
    }

    public var name: String { url }

    /// Asks the relay what a send would: EHLO, STARTTLS (unless TLS is off or the URL is
    /// `smtps://`), AUTH when a user is configured, then NOOP; no message is sent.
    ///
    /// - Returns: the relay's last reply.
    /// - Throws: ``TransportError`` naming what failed (connection, STARTTLS, AUTH).
    public func checkRelay() throws -> String {
        let easy: CurlEasy
        do { easy = try CurlEasy() } catch { throw TransportError(description: "libcurl cannot start: \(error.message)") }
        do throws(CurlError) {
            try Lane.applyConnectionOptions(easy, settings: settings, url: url)
            try easy.set(CURLOPT_CUSTOMREQUEST, string: "NOOP")
            let response = try easy.perform()
            return Lane.reply(response.responseLines, code: response.status) ?? "\(response.status)"
        } catch {
            let what: String =
                switch Int32(error.code) {
                case Int32(CURLE_USE_SSL_FAILED.rawValue): "the relay does not offer STARTTLS"
                case Int32(CURLE_LOGIN_DENIED.rawValue): "the relay refused the login (PAPERPOST_SMTP_USER / PAPERPOST_SMTP_PASSWORD)"
                case Int32(CURLE_COULDNT_CONNECT.rawValue), Int32(CURLE_COULDNT_RESOLVE_HOST.rawValue): "cannot connect"
                case Int32(CURLE_OPERATION_TIMEDOUT.rawValue): "no answer in time"
                default: "the SMTP dialogue failed"
                }
            throw TransportError(description: "\(url): \(what): \(error.message)")
        }
    }

    public func makeLane() throws -> any MailLane {
        try makeSMTPLane()
    }

    func makeSMTPLane() throws -> Lane {
        do {
            return Lane(settings: settings, url: url, easy: try CurlEasy())
        } catch {
            throw TransportError(description: "libcurl cannot start: \(error.message)")
        }
    }

    /// One message's attempt on one connection.
    struct Attempt {
        var result: TransportResult
        /// The relay took nothing and is not taking anything now (it refused the connection,
        /// its name did not resolve, or it answered 421, closing): certainly not delivered, so
        /// another relay may have it at once.
        var relayDown: Bool
    }

    /// One SMTP connection. `@unchecked Sendable`: the easy handle and `reconnect` are only
    /// touched on `queue`, one transfer at a time, and `send` awaits each transfer before the
    /// next can start.
    final class Lane: MailLane, @unchecked Sendable {
        let settings: DeliverySettings
        let url: String
        /// How the delivery log names this relay: parsed once, not per message.
        let relayName: String
        let easy: CurlEasy
        let queue = DispatchQueue(label: "paperpost.smtp.lane")
        /// Open a new connection for the next message: the server said the session is out of
        /// step (503), or a message was withdrawn in the middle of DATA.
        private var reconnect = false
        /// Whether the handle holds the connection options: they are set once per lane, and
        /// each message sets only its envelope and body.
        private var configured = false

        init(settings: DeliverySettings, url: String, easy: CurlEasy) {
            self.settings = settings
            self.url = url
            self.relayName = Relay(url: url).name
            self.easy = easy
            easy.parsesHeaderFields = false
        }

        func send(_ messages: [OutgoingMessage], settled: @escaping @Sendable (Int, TransportResult, String?) -> Void) async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                queue.async {
                    for (index, message) in messages.enumerated() {
                        settled(index, self.transfer(message), self.relayName)
                    }
                    continuation.resume()
                }
            }
        }

        /// Blocks the lane's own thread for one message: never called on the cooperative pool.
        ///
        /// The row is claimed as the transfer starts, and the message's last bytes (after which
        /// libcurl sends the end-of-data dot) wait for the claim's answer, so committing the
        /// claim overlaps MAIL, RCPT and DATA instead of delaying them.
        private func transfer(_ message: OutgoingMessage) -> TransportResult {
            let handOver = message.claim?()
            if case .withhold(let reason) = handOver?.decision {
                return .withheld(reason: reason)
            }
            return attempt(message, handOver: handOver).result
        }

        /// Sends a message already claimed (`handOver`), on the caller's thread: a relay pool
        /// tries one message on several relays under a single claim. Never on the cooperative pool.
        func attempt(_ message: OutgoingMessage, handOver: HandOver?) -> Attempt {
            var gate: (@Sendable () -> Bool)?
            if let handOver {
                gate = { handOver.wait() == HandOver.Decision.send }
            }
            do throws(CurlError) {
                try configure(for: message, gate: gate)
                let response = try easy.perform(keepingOptions: true)
                return Attempt(result: .accepted(code: response.status, reply: Self.reply(response.responseLines, code: response.status)), relayDown: false)
            } catch {
                if case .withhold(let reason) = handOver?.decision {
                    reconnect = true
                    return Attempt(result: .withheld(reason: reason), relayDown: false)
                }
                if error.responseCode == 503 || error.responseCode == 421 { reconnect = true }
                let unreachable = [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST].map { Int($0.rawValue) }.contains(Int(error.code))
                return Attempt(result: Self.classify(error), relayDown: unreachable || error.responseCode == 421)
            }
        }

        private func configure(for message: OutgoingMessage, gate: (@Sendable () -> Bool)?) throws(CurlError) {
            if !configured {
                try Self.applyConnectionOptions(easy, settings: settings, url: url)
                configured = true
            }
            try easy.set(CURLOPT_FRESH_CONNECT, long: reconnect ? 1 : 0)
            reconnect = false
            try easy.set(CURLOPT_MAIL_FROM, string: "<\(message.envelopeSender)>")
            try easy.set(CURLOPT_MAIL_RCPT, list: ["<\(message.recipient)>"])
            try easy.setUploadBody(message.bytes, beforeLastChunk: gate)
        }

        /// Server, timeouts, TLS policy and login: the same for a message and for a check.
        static func applyConnectionOptions(_ easy: CurlEasy, settings: DeliverySettings, url: String) throws(CurlError) {
            try easy.set(CURLOPT_URL, string: url)
            try easy.set(CURLOPT_PROTOCOLS_STR, string: "smtp,smtps")
            try easy.set(CURLOPT_NOSIGNAL, long: 1)
            try easy.set(CURLOPT_CONNECTTIMEOUT_MS, long: settings.connectTimeout.wholeMilliseconds)
            try easy.set(CURLOPT_TIMEOUT_MS, long: settings.messageTimeout.wholeMilliseconds)
            // libcurl's own stall detector also covers the wait for the reply to the final dot,
            // which CURLOPT_TIMEOUT alone does not (curl issue 8555), without a progress callback
            // on every transfer.
            try easy.set(CURLOPT_LOW_SPEED_LIMIT, long: 1)
            try easy.set(CURLOPT_LOW_SPEED_TIME, long: max(1, Int(settings.messageTimeout.seconds.rounded(.up))))
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
        }

        /// The server's reply for `code`. After a refused MAIL or RCPT libcurl sends QUIT, so the
        /// last line is `221 Bye`; the reply that matters is the last one with the code.
        static func reply(_ lines: [String], code: Int) -> String? {
            lines.last { $0.hasPrefix(String(code)) } ?? lines.last { $0.first?.isNumber == true }
        }

        /// 4xx and connection trouble are worth another try; 5xx is final, except replies about
        /// us rather than the recipient (authentication, policy on the sender's TLS), which a
        /// configuration fix cures and which must not fail the whole list.
        ///
        /// A failure after the message body went out (the last reply was `354`, then a timeout or
        /// a dropped connection) is temporary too: the server may or may not have kept the
        /// message, and SMTP gives no way to ask. libcurl does not time out while waiting for
        /// the reply to the final dot (curl issue 8555), so a stalled server holds the lane
        /// until it answers or drops.
        static func classify(_ error: CurlError) -> TransportResult {
            let code = error.responseCode
            let reply = reply(error.responseLines, code: code) ?? error.message
            if (400..<500).contains(code) {
                return .temporary(code: code, reply: reply)
            }
            if code == 503 {
                // "Bad sequence of commands" is about the session, not the reader.
                return .temporary(code: code, reply: reply + " (the connection was out of step; retried on a new one)")
            }
            if (500..<600).contains(code) {
                let aboutUs = [530, 534, 535, 538].contains(code) || reply.contains("5.7.0") || reply.contains("5.7.8")
                if aboutUs {
                    return .temporary(code: code, reply: reply + " (check PAPERPOST_SMTP_USER / PAPERPOST_SMTP_PASSWORD / PAPERPOST_SMTP_TLS)")
                }
                return .permanent(code: code, reply: reply, unknownUser: isUnknownUser(code: code, reply: reply))
            }
            let stage = code == 354 ? " after the message was sent" : ""
            return .temporary(code: nil, reply: error.message + stage)
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
