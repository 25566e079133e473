import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real SMTP server on 127.0.0.1 (aiosmtpd), backed by `Tests/Support/smtp_server.py`. It
/// keeps every message it accepts, can offer or require STARTTLS with a self-signed certificate
/// and require AUTH PLAIN/LOGIN, and misbehaves on cue (`SMTPRule`): replies of your choosing,
/// dropped connections, stalls.
///
/// Always pair it with `defer { server.stop() }`. If the test process dies instead, the server
/// sees its stdin close and exits on its own.
public final class LocalSMTPServer: Sendable {
    public enum TLSMode: String, Sendable {
        /// STARTTLS offered; every command but EHLO, NOOP, STARTTLS and QUIT before it gets
        /// "530 5.7.0 Must issue a STARTTLS command first".
        case required
        /// STARTTLS offered, plain text accepted.
        case offered
        /// No STARTTLS.
        case off
    }

    /// The SMTP port.
    public let port: Int
    /// The control server's HTTP port (messages, stats, rules).
    public let controlPort: Int
    /// The PEM of the server's self-signed certificate, which is also its own CA: give it to
    /// libcurl as CURLOPT_CAINFO. nil with `TLSMode.off`. Valid for 127.0.0.1 and localhost.
    public let certificatePath: String?
    public let tls: TLSMode
    /// The credentials AUTH accepts; nil when the server needs none (and advertises no AUTH).
    public let auth: (user: String, password: String)?
    private let root: String
    private let process: ScriptProcess

    public static let scriptURL = ScriptProcess.supportScript("smtp_server.py")

    /// Starts the server and waits until it listens.
    /// - Parameters:
    ///   - tls: whether STARTTLS is off, offered or required.
    ///   - auth: credentials for AUTH PLAIN/LOGIN (the user must not contain ":"). When given,
    ///     MAIL before AUTH gets "530 5.7.0 Authentication required" and wrong credentials
    ///     "535 5.7.8 Authentication credentials invalid". AUTH is offered in clear text with
    ///     `.off`, otherwise only after STARTTLS.
    public init(tls: TLSMode = .off, auth: (user: String, password: String)? = nil) async throws {
        var arguments = ["--tls", tls.rawValue]
        if let auth {
            arguments += ["--auth", "\(auth.user):\(auth.password)"]
        }
        let process: ScriptProcess
        do {
            process = try await ScriptProcess(script: Self.scriptURL, arguments: arguments)
        } catch ScriptProcessError.didNotAnnounce(let firstLine, let exitStatus) {
            throw LocalSMTPServerError.didNotStart(firstLine: firstLine, exitStatus: exitStatus)
        }
        let controlLine = await process.readLine()
        let certificateLine = await process.readLine()
        guard let controlLine, controlLine.hasPrefix("CONTROL "), let controlPort = Int(controlLine.dropFirst(8)),
              let certificateLine, certificateLine.hasPrefix("CERT ")
        else {
            process.stop()
            throw LocalSMTPServerError.badAnnouncement(control: controlLine, certificate: certificateLine)
        }
        let certificate = String(certificateLine.dropFirst(5))
        self.process = process
        self.port = process.port
        self.controlPort = controlPort
        self.certificatePath = certificate == "none" ? nil : certificate
        self.tls = tls
        self.auth = auth
        root = "http://127.0.0.1:\(controlPort)"
    }

    deinit {
        stop()
    }

    /// "smtp://127.0.0.1:PORT". Append "/name" to choose the name libcurl sends in EHLO.
    public var url: String {
        "smtp://127.0.0.1:\(port)"
    }

    /// Replaces the rules; each starts with its full `times`.
    public func setRules(_ rules: [SMTPRule]) async throws {
        struct Body: Encodable {
            var rules: [SMTPRule]
        }
        _ = try await control("POST", "/script", body: try JSONEncoder().encode(Body(rules: rules)))
    }

    /// Every message accepted since start or the last `reset()`, in arrival order.
    public func messages() async throws -> [ReceivedMessage] {
        try JSONDecoder().decode([ReceivedMessage].self, from: try await control("GET", "/messages"))
    }

    /// Counters since start or the last `reset()`.
    public func stats() async throws -> SMTPServerStats {
        try JSONDecoder().decode(SMTPServerStats.self, from: try await control("GET", "/stats"))
    }

    /// Returns once the server holds at least `count` messages (a `.hold` rule), polling its
    /// counters: a state to wait for, however slow the machine. Gives up after `timeout`.
    public func waitUntilHeld(_ count: Int, timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await stats().held < count {
            guard ContinuousClock.now < deadline else { throw LocalSMTPServerError.timedOut("\(count) held message(s)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Answers every message held by a `.hold` rule with its normal 250 reply.
    public func release() async throws {
        _ = try await control("POST", "/release")
    }

    /// Forgets messages, rules and counters. Message and session ids keep increasing.
    public func reset() async throws {
        _ = try await control("POST", "/reset")
    }

    /// Kills the server (which removes its certificate). Safe to call more than once.
    public func stop() {
        process.stop()
    }

    private func control(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        guard let url = URL(string: root + path) else {
            throw LocalSMTPServerError.badURL(root + path)
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw LocalSMTPServerError.controlFailed(
                request: "\(method) \(path)", status: status, body: String(decoding: data, as: UTF8.self)
            )
        }
        return data
    }
}

/// Scripted misbehaviour for `LocalSMTPServer`. At each event the first rule in the list that
/// matches and is not used up fires, and only that one.
public struct SMTPRule: Sendable, Encodable {
    public enum Stage: String, Sendable, Encodable {
        /// A new connection, before the banner; `rcpt` must be "*".
        case connect
        /// MAIL FROM; `rcpt` matches the sender.
        case mail
        /// RCPT TO; `rcpt` matches that recipient.
        case rcpt
        /// After the whole message body (the final dot), before the reply; `rcpt` matches any
        /// recipient accepted in the transaction.
        case data
    }

    public enum Action: Sendable, Encodable, Equatable {
        /// Answer this line ("451 4.3.0 Try again later") instead. 2xx accepts as usual with that
        /// text; other codes refuse (at `.data`: nothing stored). "421 ..." then closes the
        /// connection; at `.connect` the line replaces the banner and the connection closes.
        case reply(String)
        /// Close the connection without a reply (at `.data`: after the body, so the client sees
        /// it vanish mid-DATA). Nothing is stored.
        case drop
        /// Wait this many seconds, then carry on normally.
        case stall(Double)
        /// Only at `.data`: store the message, then give no reply until ``LocalSMTPServer/release()``
        /// or until the client goes away. A test kills a sender in exactly this state: a message
        /// the server has taken whose acceptance the sender has not heard.
        case hold

        private enum CodingKeys: String, CodingKey {
            case reply, stall
        }

        public func encode(to encoder: any Encoder) throws {
            switch self {
            case .reply(let line):
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(line, forKey: .reply)
            case .drop:
                var container = encoder.singleValueContainer()
                try container.encode("drop")
            case .hold:
                var container = encoder.singleValueContainer()
                try container.encode("hold")
            case .stall(let seconds):
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(seconds, forKey: .stall)
            }
        }
    }

    /// An address (compared case-insensitively) or "*" for any.
    public var rcpt: String
    public var stage: Stage
    public var action: Action
    /// How often the rule fires before it is used up; nil for always.
    public var times: Int?

    public init(rcpt: String = "*", stage: Stage, action: Action, times: Int? = nil) {
        self.rcpt = rcpt
        self.stage = stage
        self.action = action
        self.times = times
    }
}

/// A message `LocalSMTPServer` accepted.
public struct ReceivedMessage: Sendable, Decodable {
    /// From 1, in arrival order; unique for the server's lifetime.
    public var id: Int
    /// The envelope sender (MAIL FROM), without angle brackets.
    public var mailFrom: String
    /// The envelope recipients the server accepted, in order.
    public var rcptTos: [String]
    /// The message exactly as received, after dot-unstuffing, CRLF line ends included.
    public var data: Data
    /// Whether the message came over a connection that had done STARTTLS.
    public var tls: Bool
    /// The user that authenticated on that connection, if any.
    public var authUser: String?
    /// The connection it came on: equal values mean one reused connection.
    public var session: Int
    /// The name the client gave in EHLO/HELO.
    public var helo: String?
    /// The MAIL FROM parameters, upper-cased ("SIZE=1234", "BODY=8BITMIME", "SMTPUTF8").
    public var mailOptions: [String]
    /// Server wall clock when the message was stored (seconds since 1970).
    public var arrival: Double

    /// `data` as UTF-8 text.
    public var text: String {
        String(decoding: data, as: UTF8.self)
    }

    private enum CodingKeys: String, CodingKey {
        case id, tls, session, helo, arrival
        case mailFrom = "mail_from"
        case rcptTos = "rcpt_tos"
        case data = "data_base64"
        case authUser = "auth_user"
        case mailOptions = "mail_options"
    }
}

/// `LocalSMTPServer`'s counters since start or the last reset.
public struct SMTPServerStats: Sendable, Decodable, Equatable {
    /// TCP connections accepted.
    public var connections: Int
    /// Connections currently open.
    public var activeConnections: Int
    /// Connections answered by a `.connect` reply rule instead of the banner.
    public var connectRefused: Int
    /// Completed STARTTLS handshakes.
    public var starttls: Int
    public var authSucceeded: Int
    public var authFailed: Int
    /// MAIL commands received, then accepted or refused (a drop counts as neither).
    public var mail: Int
    public var mailAccepted: Int
    public var mailRefused: Int
    /// RCPT commands received, then accepted or refused (a drop counts as neither).
    public var rcpt: Int
    public var rcptAccepted: Int
    public var rcptRefused: Int
    /// Message bodies received (up to the final dot).
    public var data: Int
    /// Messages stored.
    public var dataAccepted: Int
    /// Bodies refused by a `.data` reply rule.
    public var dataRefused: Int
    /// Connections closed by a `.drop` rule.
    public var dropped: Int
    /// `.stall` rules fired.
    public var stalled: Int
    /// Messages stored and left without a reply by a `.hold` rule.
    public var held: Int
    /// Messages held (the length of `messages()`).
    public var messages: Int

    private enum CodingKeys: String, CodingKey {
        case connections, starttls, mail, rcpt, data, dropped, stalled, held, messages
        case activeConnections = "active_connections"
        case connectRefused = "connect_refused"
        case authSucceeded = "auth_succeeded"
        case authFailed = "auth_failed"
        case mailAccepted = "mail_accepted"
        case mailRefused = "mail_refused"
        case rcptAccepted = "rcpt_accepted"
        case rcptRefused = "rcpt_refused"
        case dataAccepted = "data_accepted"
        case dataRefused = "data_refused"
    }
}

public enum LocalSMTPServerError: Error, CustomStringConvertible {
    case didNotStart(firstLine: String?, exitStatus: Int32)
    case badAnnouncement(control: String?, certificate: String?)
    case controlFailed(request: String, status: Int, body: String)
    case badURL(String)
    case timedOut(String)

    public var description: String {
        switch self {
        case .didNotStart(let line, let status):
            "smtp_server.py did not announce its port (first line: \(line ?? "none"), exit status \(status)); see its stderr above"
        case .badAnnouncement(let control, let certificate):
            "smtp_server.py announced \"\(control ?? "nothing")\" and \"\(certificate ?? "nothing")\" instead of \"CONTROL <port>\" and \"CERT <path>\""
        case .controlFailed(let request, let status, let body):
            "smtp_server.py control \(request) failed (HTTP \(status)): \(body)"
        case .badURL(let url):
            "not a URL: \(url)"
        case .timedOut(let what):
            "smtp_server.py never reached the state the test waited for: \(what)"
        }
    }
}
