import Foundation

/// One scripted reply of `LocalHTTPServer`; see fixture_http_server.py for the semantics.
public struct FixtureResponse: Sendable, Encodable {
    public enum Body: Sendable {
        case text(String)
        case bytes(Data)
        /// An absolute path, read by the server when it starts.
        case file(URL)
        /// That many zero bytes, gzip-compressed by the server when it starts: with a
        /// `Content-Encoding: gzip` header, a decompression bomb (1 GiB is about 1 MiB on the wire)
        /// that is never stored in the repository.
        case gzipOfZeros(Int)
    }

    public var status: Int
    /// Ordered pairs so a field can repeat.
    public var headers: [(name: String, value: String)]
    public var body: Body?
    public var delaySeconds: Double
    /// Held until this many requests answered by this response wait at once: a barrier that
    /// proves requests are in flight together, since a client sending them one or two at a time
    /// never gets past it. 0 or 1 holds nothing.
    public var holdUntilWaiting: Int
    /// How long a held request waits for the barrier before it is answered 504.
    public var holdTimeoutSeconds: Double
    public var closeWithoutResponse: Bool
    /// The body (64 KiB of "x" when there is none) is sent over and over, chunked, until the
    /// client hangs up: a server that never stops talking.
    public var endless: Bool

    public init(
        status: Int = 200,
        headers: [(name: String, value: String)] = [],
        body: Body? = nil,
        delaySeconds: Double = 0,
        holdUntilWaiting: Int = 0,
        holdTimeoutSeconds: Double = 60,
        closeWithoutResponse: Bool = false,
        endless: Bool = false
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delaySeconds = delaySeconds
        self.holdUntilWaiting = holdUntilWaiting
        self.holdTimeoutSeconds = holdTimeoutSeconds
        self.closeWithoutResponse = closeWithoutResponse
        self.endless = endless
    }

    public init(
        status: Int = 200, headers: [(name: String, value: String)] = [], text: String, delaySeconds: Double = 0,
        holdUntilWaiting: Int = 0, holdTimeoutSeconds: Double = 60
    ) {
        self.init(
            status: status, headers: headers, body: .text(text), delaySeconds: delaySeconds, holdUntilWaiting: holdUntilWaiting,
            holdTimeoutSeconds: holdTimeoutSeconds)
    }

    public static func redirect(to location: String, status: Int = 302) -> FixtureResponse {
        FixtureResponse(status: status, headers: [("Location", location)])
    }

    /// The connection is closed without a single byte of response.
    public static let dropConnection = FixtureResponse(closeWithoutResponse: true)

    private enum CodingKeys: String, CodingKey {
        case status, headers, body
        case bodyBase64 = "body_base64"
        case bodyFile = "body_file"
        case bodyGzipZeros = "body_gzip_zeros"
        case delaySeconds = "delay_seconds"
        case holdUntilWaiting = "hold_until_waiting"
        case holdTimeoutSeconds = "hold_timeout_seconds"
        case closeWithoutResponse = "close_without_response"
        case endless
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encode(headers.map { [$0.name, $0.value] }, forKey: .headers)
        switch body {
        case .text(let text):
            try container.encode(text, forKey: .body)
        case .bytes(let data):
            try container.encode(data.base64EncodedString(), forKey: .bodyBase64)
        case .file(let url):
            try container.encode(url.path, forKey: .bodyFile)
        case .gzipOfZeros(let size):
            try container.encode(size, forKey: .bodyGzipZeros)
        case nil:
            break
        }
        try container.encode(delaySeconds, forKey: .delaySeconds)
        try container.encode(holdUntilWaiting, forKey: .holdUntilWaiting)
        try container.encode(holdTimeoutSeconds, forKey: .holdTimeoutSeconds)
        try container.encode(closeWithoutResponse, forKey: .closeWithoutResponse)
        try container.encode(endless, forKey: .endless)
    }
}

/// A request as the fixture server saw it.
public struct RecordedRequest: Sendable, Decodable {
    public var method: String
    /// Path with query, exactly as sent.
    public var path: String
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// Server-side monotonic clock, in seconds; only differences between requests mean anything.
    public var arrival: Double
    /// The client's TCP port: two requests with the same port shared one connection.
    public var clientPort: Int

    /// Case-insensitive; the last occurrence when a field repeats.
    public func header(_ name: String) -> String? {
        headers.last { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }

    private enum CodingKeys: String, CodingKey {
        case method, path, headers, arrival
        case bodyBase64 = "body_base64"
        case clientPort = "client_port"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        method = try container.decode(String.self, forKey: .method)
        path = try container.decode(String.self, forKey: .path)
        headers = try container.decode([[String]].self, forKey: .headers).compactMap { pair in
            pair.count == 2 ? (name: pair[0], value: pair[1]) : nil
        }
        let base64 = try container.decode(String.self, forKey: .bodyBase64)
        guard let body = Data(base64Encoded: base64) else {
            throw DecodingError.dataCorruptedError(forKey: .bodyBase64, in: container, debugDescription: "not base64")
        }
        self.body = body
        arrival = try container.decode(Double.self, forKey: .arrival)
        clientPort = try container.decode(Int.self, forKey: .clientPort)
    }
}
