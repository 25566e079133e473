import CCurl
import Dispatch
import Foundation
import Synchronization

/// One HTTP request. Only GET and POST exist because that is all PaperPost sends.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
    }

    public var method: Method
    public var url: String
    /// Ordered pairs rather than a dictionary, so a field may repeat and the order on the wire
    /// is the order written here.
    public var headers: [(name: String, value: String)]
    /// Sent only with POST; a POST without a body sends an empty one.
    public var body: Data?
    /// How long to wait for TCP and TLS to be established.
    public var connectTimeout: Duration
    /// The whole attempt, redirects included; each retry gets the full amount again.
    public var totalTimeout: Duration
    /// Polled while the transfer waits (about once a second); true ends it like a cancelled
    /// task does. For work shared by several requests that a decision elsewhere made pointless.
    public var abandon: (@Sendable () -> Bool)?

    public init(
        method: Method = .get,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: Data? = nil,
        connectTimeout: Duration = .seconds(10),
        totalTimeout: Duration = .seconds(60)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Names lower-cased so lookups need not guess the server's spelling; when a field repeats,
    /// the last one wins.
    public var headers: [String: String]
    /// Already decoded when the server compressed it.
    public var body: Data
    /// The URL the body came from, after redirects.
    public var url: String

    public init(status: Int, headers: [String: String], body: Data, url: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
    }

    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }
}

/// When and how often `HTTPClient.send` tries again.
///
/// Waits use exponential backoff with full jitter (a random wait between zero and
/// `baseDelay * 2^(attempt-1)`, capped at `maxDelay`), so many clients failing together do not
/// return together. A `Retry-After` from the server replaces the random wait, but is still capped
/// at `maxDelay` so a hostile or confused server cannot park the digest for hours.
public struct RetryPolicy: Sendable {
    /// Attempts in total, the first one included; values below 1 count as 1.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Statuses worth asking again for. 406 is here because arXiv's API answers it transiently
    /// under load.
    public var retryableStatuses: Set<Int>

    public init(
        maxAttempts: Int = 4,
        baseDelay: Duration = .seconds(1),
        maxDelay: Duration = .seconds(60),
        retryableStatuses: Set<Int> = [406, 408, 425, 429, 500, 502, 503, 504]
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.retryableStatuses = retryableStatuses
    }

    /// One attempt, no retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The upper bound of the random wait after `attempt` failed attempts.
    package func backoffCeiling(afterAttempt attempt: Int) -> Duration {
        let base = baseDelay.seconds
        let cap = maxDelay.seconds
        let exponent = Double(max(0, attempt - 1))
        return .seconds(min(cap, base * pow(2, exponent)))
    }

    /// How long to wait before the next attempt after `attempt` failed ones.
    package func delay(
        afterAttempt attempt: Int,
        retryAfter: String?,
        now: Date = Date(),
        random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }
    ) -> Duration {
        if let retryAfter, let requested = RetryAfter.parse(retryAfter, now: now) {
            return min(requested, maxDelay)
        }
        return .seconds(random(0...backoffCeiling(afterAttempt: attempt).seconds))
    }
}

/// Reads a `Retry-After` field (RFC 9110 §10.2.3).
package enum RetryAfter {
    /// The wait the server asked for; nil when the field is malformed, in which case the caller
    /// falls back to its own backoff. A date in the past means "now".
    package static func parse(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }) {
            // Absurdly long digit strings overflow Int; they still mean "a long time".
            return .seconds(Int(trimmed) ?? Int.max / 1_000_000_000_000)
        }
        guard let date = httpDate(trimmed) else {
            return nil
        }
        let seconds = date.timeIntervalSince(now)
        return seconds > 0 ? .seconds(seconds) : .zero
    }

    /// IMF-fixdate, plus the obsolete RFC 850 and asctime forms that recipients must accept.
    private static func httpDate(_ value: String) -> Date? {
        let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: collapsed) {
                return date
            }
        }
        return nil
    }
}

public enum HTTPError: Error, Sendable, CustomStringConvertible {
    /// No HTTP response at all (DNS, refused connection, timeout, TLS, too many redirects…);
    /// `code` is the CURLcode and `message` curl's own explanation.
    case transport(url: String, code: Int, message: String, attempts: Int)
    /// The server answered, but not with 2xx, even after retrying. The last response is kept
    /// because some callers can still use it (arXiv sometimes answers 406 with a valid feed).
    case status(url: String, status: Int, server: String?, attempts: Int, lastResponse: HTTPResponse)
    /// The body was bigger than the client's `maxBodyBytes` (counted after decompression), so the
    /// transfer was stopped and nothing of it is returned. Never retried: the same server would
    /// send the same body again. `received` is how much had arrived when it was stopped (0 when the
    /// announced Content-Length alone was over the limit), `announced` that Content-Length.
    case tooLarge(url: String, limit: Int, received: Int, announced: Int?, attempts: Int)

    public var url: String {
        switch self {
        case .transport(let url, _, _, _), .status(let url, _, _, _, _), .tooLarge(let url, _, _, _, _):
            url
        }
    }

    public var attempts: Int {
        switch self {
        case .transport(_, _, _, let attempts), .status(_, _, _, let attempts, _), .tooLarge(_, _, _, _, let attempts):
            attempts
        }
    }

    public var description: String {
        switch self {
        case .transport(let url, let code, let message, let attempts):
            "Could not reach \(url) (\(Self.tries(attempts))): \(message) [curl error \(code)]. \(Self.advice(curlCode: code))"
        case .status(let url, let status, let server, let attempts, let response):
            "\(url) answered HTTP \(status)\(server.map { " from server \"\($0)\"" } ?? "") (\(Self.tries(attempts)))."
                + Self.bodyExcerpt(response.body) + " " + Self.advice(status: status)
        case .tooLarge(let url, let limit, let received, let announced, _):
            "\(url) sent a response larger than the limit of \(limit) bytes\(Self.mebibytes(limit))"
                + (received > 0
                    ? ": the transfer was stopped after \(received) bytes"
                    : ": it announced \(announced.map { "\($0) bytes" } ?? "more") and was refused before reading it")
                + ". Nothing of it was used. An endless or decompression-bomb body is the server misbehaving; "
                + "if a response this large is expected, raise PAPERPOST_HTTP_MAX_BYTES (bytes)."
        }
    }

    /// " (64 MiB)" for a whole number of MiB, which is how the limit is usually chosen.
    private static func mebibytes(_ bytes: Int) -> String {
        bytes >= 1_048_576 && bytes % 1_048_576 == 0 ? " (\(bytes / 1_048_576) MiB)" : ""
    }

    private static func tries(_ attempts: Int) -> String {
        attempts == 1 ? "1 attempt" : "\(attempts) attempts"
    }

    private static func advice(curlCode code: Int) -> String {
        switch UInt32(clamping: code) {
        case CURLE_COULDNT_RESOLVE_HOST.rawValue, CURLE_COULDNT_RESOLVE_PROXY.rawValue:
            "Check the host name in the URL and that this machine's DNS works."
        case CURLE_COULDNT_CONNECT.rawValue:
            "The host refused or dropped the connection: check that the service is up and no firewall or proxy is in the way."
        case CURLE_OPERATION_TIMEDOUT.rawValue:
            "The server was too slow: try again later, or raise the request's timeout if it is always this slow."
        case CURLE_PEER_FAILED_VERIFICATION.rawValue, CURLE_SSL_CONNECT_ERROR.rawValue, CURLE_SSL_CERTPROBLEM.rawValue,
            CURLE_SSL_CACERT_BADFILE.rawValue, CURLE_SSL_CIPHER.rawValue:
            "TLS failed: check the system clock and the CA certificates (the ca-certificates package); certificate checks are never switched off."
        case CURLE_TOO_MANY_REDIRECTS.rawValue:
            "The URL redirects more than 5 times, probably in a loop: use the final URL directly."
        case CURLE_UNSUPPORTED_PROTOCOL.rawValue:
            "Only http and https URLs are fetched, redirects included: fix the URL."
        case CURLE_URL_MALFORMAT.rawValue:
            "The URL is not valid: fix it in the configuration."
        case CURLE_ABORTED_BY_CALLBACK.rawValue:
            "The request was cancelled before it finished; nothing needs fixing."
        default:
            "Check the network connection and the URL, then run again."
        }
    }

    private static func advice(status: Int) -> String {
        switch status {
        case 429:
            "The server is rate-limiting this client: run less often or wait before retrying."
        case 401, 403:
            "The server refuses this client: check credentials, the User-Agent and whether this host is blocked."
        case 404, 410:
            "The resource does not exist: check the URL."
        case 400..<500:
            "The server rejected the request itself, so retrying will not help: check the URL and parameters."
        case 500..<600:
            "The server is failing: try again later."
        default:
            "This status was not expected: check the URL."
        }
    }

    /// A short, single-line start of the body, because error pages often say exactly what is wrong.
    private static func bodyExcerpt(_ body: Data) -> String {
        guard let text = String(data: body.prefix(400), encoding: .utf8) else {
            return ""
        }
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty else {
            return ""
        }
        return " Body starts: \"\(line.prefix(200))\"."
    }
}

/// The app's HTTP client: TLS always verified, at most 5 redirects and only to http/https,
/// compressed responses accepted, bodies bounded, and transient failures retried per `RetryPolicy`.
///
/// A final class rather than an actor: an actor would serialise sends, but all it guards is a
/// pool of idle curl handles, which a Mutex covers without making concurrent requests queue.
/// Reusing handles from the pool is what keeps connections alive between requests.
public final class HTTPClient: Sendable {
    private let userAgent: String
    private let retryPolicy: RetryPolicy
    private let maxBodyBytes: Int
    private let sleep: @Sendable (Duration) async throws -> Void
    private let idleWorkers = Mutex<[Worker]>([])
    /// Enough to keep one connection per host for the few hosts PaperPost talks to; handles
    /// beyond this are closed when their request ends.
    private static let maxIdleWorkers = 8

    /// 64 MiB: a 2,000-entry arXiv API page is about 5 MB and a chat completion a few KB, while an
    /// endless or decompression-bomb body is stopped long before it can hurt the process.
    public static let defaultMaxBodyBytes = 64 * 1_048_576

    /// - Parameters:
    ///   - userAgent: sent on every request; arXiv asks automated clients to name themselves
    ///     and give a contact, e.g. `PaperPost/1.0 (+https://example.org/paperpost)`.
    ///   - maxBodyBytes: the largest response body accepted, counted after decompression
    ///     (`PAPERPOST_HTTP_MAX_BYTES`); a larger one fails with ``HTTPError/tooLarge(url:limit:received:announced:attempts:)``
    ///     as soon as it passes the limit, so memory stays bounded whatever a server sends.
    ///   - sleep: how retry waits are spent; tests replace it to observe the chosen delays.
    public init(
        userAgent: String,
        retryPolicy: RetryPolicy = .init(),
        maxBodyBytes: Int = HTTPClient.defaultMaxBodyBytes,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.userAgent = userAgent
        self.retryPolicy = retryPolicy
        self.maxBodyBytes = max(1, maxBodyBytes)
        self.sleep = sleep
    }

    /// Returns a 2xx response (or one `accept` lets through), or throws once retries are used
    /// up or pointless.
    ///
    /// - Parameter accept: lets a non-2xx response through as it is, for servers whose error
    ///   statuses carry a body the caller can use (arXiv answers 406 with a valid feed at
    ///   times, and its API reports errors as a 400 with an Atom body).
    ///
    /// Cancelling the calling task aborts the transfer in progress (within about a second) or
    /// the wait between attempts, and throws the most recent failure.
    public func send(
        _ request: HTTPRequest,
        accept: @Sendable (HTTPResponse) -> Bool = { _ in false }
    ) async throws(HTTPError) -> HTTPResponse {
        var attempt = 0
        while true {
            attempt += 1
            let failure: HTTPError
            let wait: Duration
            switch await perform(request) {
            case .success(let response):
                if (200..<300).contains(response.status) || accept(response) {
                    return response
                }
                failure = .status(
                    url: request.url,
                    status: response.status,
                    server: response.header("server"),
                    attempts: attempt,
                    lastResponse: response
                )
                guard retryPolicy.retryableStatuses.contains(response.status) else {
                    throw failure
                }
                wait = retryPolicy.delay(afterAttempt: attempt, retryAfter: response.header("retry-after"))
            case .failure(let error):
                if let tooLarge = error.bodyTooLarge {
                    throw .tooLarge(
                        url: request.url, limit: tooLarge.limit, received: tooLarge.received, announced: tooLarge.announced,
                        attempts: attempt)
                }
                failure = .transport(url: request.url, code: error.code, message: error.message, attempts: attempt)
                guard Self.isRetryable(curlCode: error.code) else {
                    throw failure
                }
                wait = retryPolicy.delay(afterAttempt: attempt, retryAfter: nil)
            }
            guard attempt < retryPolicy.maxAttempts, !Task.isCancelled else {
                throw failure
            }
            do {
                try await sleep(wait)
            } catch {
                throw failure
            }
        }
    }

    /// Failures that may go away by themselves. Everything else (bad URL, refused protocol,
    /// redirect loop, certificate mismatch, cancellation) would fail the same way again.
    private static let retryableCurlCodes: Set<Int> = Set(
        [
            CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
            CURLE_HTTP2, CURLE_PARTIAL_FILE, CURLE_OPERATION_TIMEDOUT, CURLE_SSL_CONNECT_ERROR,
            CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_HTTP2_STREAM,
        ].map { Int($0.rawValue) }
    )

    private static func isRetryable(curlCode: Int) -> Bool {
        retryableCurlCodes.contains(curlCode)
    }

    /// One attempt. `curl_easy_perform` blocks its thread for the whole transfer, so it runs on
    /// the worker's own serial dispatch queue (serial queues may grow new threads; Swift's
    /// cooperative pool has one thread per core and must never be blocked).
    private func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, CurlError> {
        if Task.isCancelled {
            return .failure(Self.cancelled)
        }
        let worker: Worker
        do {
            worker = try checkOutWorker()
        } catch {
            return .failure(error)
        }
        defer { checkIn(worker) }
        let flag = CancellationFlag()
        let userAgent = userAgent
        let maxBodyBytes = maxBodyBytes
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                worker.queue.async {
                    let result = Result { () throws(CurlError) -> HTTPResponse in
                        try Self.transfer(
                            request, userAgent: userAgent, maxBodyBytes: maxBodyBytes, on: worker.easy, cancelled: flag)
                    }
                    continuation.resume(returning: result.mapError { error in
                        error.code == Self.cancelled.code ? Self.cancelled : error
                    })
                }
            }
        } onCancel: {
            flag.set()
        }
    }

    private static let cancelled = CurlError(code: Int(CURLE_ABORTED_BY_CALLBACK.rawValue), message: "request cancelled")

    /// Configures the handle from scratch for this request and runs it. Runs on a worker queue.
    private static func transfer(
        _ request: HTTPRequest,
        userAgent: String,
        maxBodyBytes: Int,
        on easy: CurlEasy,
        cancelled: CancellationFlag
    ) throws(CurlError) -> HTTPResponse {
        easy.reset()
        try easy.set(CURLOPT_URL, string: request.url)
        try easy.set(CURLOPT_NOSIGNAL, long: 1)
        try easy.set(CURLOPT_PROTOCOLS_STR, string: "http,https")
        try easy.set(CURLOPT_SSL_VERIFYPEER, long: 1)
        try easy.set(CURLOPT_SSL_VERIFYHOST, long: 2)
        try easy.set(CURLOPT_FOLLOWLOCATION, long: 1)
        try easy.set(CURLOPT_MAXREDIRS, long: 5)
        try easy.set(CURLOPT_REDIR_PROTOCOLS_STR, string: "http,https")
        try easy.set(CURLOPT_ACCEPT_ENCODING, string: "")
        try easy.set(CURLOPT_USERAGENT, string: userAgent)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, long: request.connectTimeout.milliseconds)
        try easy.set(CURLOPT_TIMEOUT_MS, long: request.totalTimeout.milliseconds)

        var fields: [String] = []
        for (name, value) in request.headers {
            // Scalars, not Characters: "\r\n" is one Character and would slip past a check for "\r".
            let breaksLine = (name + value).unicodeScalars.contains { $0 == "\r" || $0 == "\n" }
            guard !breaksLine, !name.contains(":"), !name.isEmpty else {
                throw CurlError(
                    code: Int(CURLE_BAD_FUNCTION_ARGUMENT.rawValue),
                    message: "invalid request header \"\(name)\": empty name, colon in name, or line break"
                )
            }
            // "Name:" would tell curl to drop the field; "Name;" is its spelling for an empty value.
            fields.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        switch request.method {
        case .get:
            try easy.set(CURLOPT_HTTPGET, long: 1)
        case .post:
            // Without this curl waits for "100 Continue" before sending larger bodies, which
            // only adds a round trip (or a one-second stall with servers that ignore it).
            if !request.headers.contains(where: { $0.name.lowercased() == "expect" }) {
                fields.append("Expect:")
            }
            try easy.setPostBody(request.body ?? Data())
        }
        try easy.set(CURLOPT_HTTPHEADER, list: fields)

        let abandon = request.abandon
        let response = try easy.perform(maxBodyBytes: maxBodyBytes, shouldAbort: { cancelled.isSet || abandon?() == true })
        var headers: [String: String] = [:]
        for (name, value) in response.headers {
            headers[name.lowercased()] = value
        }
        return HTTPResponse(status: response.status, headers: headers, body: response.body, url: response.effectiveURL)
    }

    private func checkOutWorker() throws(CurlError) -> Worker {
        if let idle = idleWorkers.withLock({ $0.popLast() }) {
            return idle
        }
        return try Worker()
    }

    private func checkIn(_ worker: Worker) {
        idleWorkers.withLock { idle in
            if idle.count < Self.maxIdleWorkers {
                idle.append(worker)
            }
        }
    }
}

/// An easy handle and the serial queue that is the only place it is used.
private final class Worker: Sendable {
    let easy: CurlEasy
    let queue = DispatchQueue(label: "PaperPost.HTTPClient.curl")

    init() throws(CurlError) {
        easy = try CurlEasy()
    }
}

/// Set from the task's cancellation handler, read by curl's progress callback on the worker thread.
private final class CancellationFlag: Sendable {
    private let state = Atomic<Bool>(false)

    var isSet: Bool {
        state.load(ordering: .acquiring)
    }

    func set() {
        state.store(true, ordering: .releasing)
    }
}

extension Duration {
    fileprivate var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Rounded up, so a sub-millisecond timeout does not become curl's "0 = no timeout".
    fileprivate var milliseconds: Int {
        let millis = (seconds * 1000).rounded(.up)
        return Int(min(max(1, millis), Double(Int32.max)))
    }
}
