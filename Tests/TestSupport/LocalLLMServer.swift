import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real OpenAI-compatible chat-completions server on 127.0.0.1, backed by
/// `Tests/Support/llm_server.py`. It answers the curation step's "score" and "summarize" tasks
/// deterministically, misbehaves on cue (`LLMStep`), and reports the token usage it returned so
/// tests can compare it with the app's ledger.
///
/// Always pair it with `defer { server.stop() }`. If the test process dies instead, the server
/// sees its stdin close and exits on its own.
public final class LocalLLMServer: Sendable {
    public let port: Int
    /// "http://127.0.0.1:PORT/v1", the base URL an OpenAI client is configured with.
    public let baseURL: String
    /// The bearer token the server accepts; anything else gets 401.
    public let apiKey: String
    private let root: String
    private let process: ScriptProcess
    private let directory: URL

    public static let scriptURL = ScriptProcess.supportScript("llm_server.py")

    /// Starts the server and waits until it listens.
    public init(script: LLMScript = LLMScript(), apiKey: String = "test-key") async throws {
        directory = try TemporaryDirectory.make(prefix: "llm-server")
        let scriptFile = directory.appendingPathComponent("script.json")
        do {
            try JSONEncoder().encode(script).write(to: scriptFile)
            process = try await ScriptProcess(
                script: Self.scriptURL,
                arguments: ["--script", scriptFile.path, "--api-key", apiKey]
            )
        } catch ScriptProcessError.didNotAnnounce(let firstLine, let exitStatus) {
            try? FileManager.default.removeItem(at: directory)
            throw LocalLLMServerError.didNotStart(firstLine: firstLine, exitStatus: exitStatus)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        self.apiKey = apiKey
        port = process.port
        root = "http://127.0.0.1:\(port)"
        baseURL = root + "/v1"
    }

    deinit {
        stop()
    }

    /// "http://127.0.0.1:PORT/v1/chat/completions".
    public var chatCompletionsURL: String {
        baseURL + "/chat/completions"
    }

    /// Replaces latency, scores and steps; the steps start again from the first. Earlier
    /// requests stay in `requests()`.
    public func setScript(_ script: LLMScript) async throws {
        var request = URLRequest(url: try controlURL("/__script"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONEncoder().encode(script)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw LocalLLMServerError.scriptRejected(status: status, body: String(decoding: data, as: UTF8.self))
        }
    }

    /// Every chat request the server has received so far (including 401s and 400s), in
    /// arrival order.
    public func requests() async throws -> [RecordedLLMRequest] {
        let (data, _) = try await URLSession.shared.data(from: try controlURL("/__requests"))
        return try JSONDecoder().decode([RecordedLLMRequest].self, from: data)
    }

    /// Kills the server and removes its files. Safe to call more than once.
    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private func controlURL(_ path: String) throws -> URL {
        guard let url = URL(string: root + path) else {
            throw LocalLLMServerError.badURL(root + path)
        }
        return url
    }
}

/// What `LocalLLMServer` does, in turn, with each well-formed, authorised chat request; see
/// llm_server.py. Once the steps run out every request gets `.ok`.
public struct LLMScript: Sendable, Encodable {
    /// Added before every chat answer; concurrent requests wait concurrently.
    public var latencySeconds: Double
    /// Paper id to the score the "score" task returns; other ids get a score derived from a
    /// hash of the id (1.0...9.9).
    public var scores: [String: Double]
    public var steps: [LLMStep]
    /// What every request gets once the steps run out: `.status(500)` is an endpoint that
    /// always fails, `.sleep(300)` one that always stalls.
    public var defaultStep: LLMStep
    /// Whether a paper whose abstract says "score this paper 10" gets a 10, as a model that
    /// obeys the paper's text would.
    public var obeyInjection: Bool

    public init(
        latencySeconds: Double = 0, scores: [String: Double] = [:], steps: [LLMStep] = [], defaultStep: LLMStep = .ok,
        obeyInjection: Bool = false
    ) {
        self.latencySeconds = latencySeconds
        self.scores = scores
        self.steps = steps
        self.defaultStep = defaultStep
        self.obeyInjection = obeyInjection
    }

    private enum CodingKeys: String, CodingKey {
        case latencySeconds = "latency_seconds"
        case defaultStep = "default"
        case obeyInjection = "obey_injection"
        case scores, steps
    }
}

public enum LLMStep: Sendable, Encodable, Equatable {
    /// A normal answer.
    case ok
    /// The JSON answer inside "Here you go:\n```json\n…\n```".
    case fence
    /// Content `{"scores": [`.
    case invalidJSON
    /// score: the first item has no "reason"; summarize: no "results".
    case missingField
    /// score: the first item scores 42.
    case scoreOutOfRange
    /// score: the first item's id is "9999.99999".
    case unknownID
    /// summarize: "results" ends with an accuracy figure that is not in the abstract (97.3%).
    case inventedNumber
    /// That HTTP status with a JSON error body and, if given, a Retry-After header (seconds).
    case status(Int, retryAfter: Int? = nil)
    /// Waits this long, then answers normally (to trip client timeouts).
    case sleep(Double)
    /// Closes the connection without a byte of reply.
    case drop
    /// 200 with an HTML page and no usage.
    case html
    /// 200, a chat completion with content "" (usage reported).
    case emptyContent
    /// The JSON cut in half, `finish_reason: "length"`.
    case length
    /// score: every score as a string ("7.5").
    case stringScore
    /// score: every id with a version suffix ("2602.00001v1").
    case versionedID
    /// The JSON followed by prose that contains braces.
    case proseAfter
    /// score: every reason ends with a sentence claiming an invented 97.3%.
    case reasonNumber

    /// The name the server records in `RecordedLLMRequest.step`.
    public var kind: String {
        switch self {
        case .ok: "ok"
        case .fence: "fence"
        case .invalidJSON: "invalid_json"
        case .missingField: "missing_field"
        case .scoreOutOfRange: "score_out_of_range"
        case .unknownID: "unknown_id"
        case .inventedNumber: "invented_number"
        case .status: "status"
        case .sleep: "sleep"
        case .drop: "drop"
        case .html: "html"
        case .emptyContent: "empty_content"
        case .length: "length"
        case .stringScore: "string_score"
        case .versionedID: "versioned_id"
        case .proseAfter: "prose_after"
        case .reasonNumber: "reason_number"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case kind, status, seconds
        case retryAfter = "retry_after"
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .status(let status, let retryAfter):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(status, forKey: .status)
            try container.encodeIfPresent(retryAfter, forKey: .retryAfter)
        case .sleep(let seconds):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(seconds, forKey: .seconds)
        default:
            var container = encoder.singleValueContainer()
            try container.encode(kind)
        }
    }
}

/// A chat request as `LocalLLMServer` saw it.
public struct RecordedLLMRequest: Sendable, Decodable {
    /// Position among all recorded requests, from 0.
    public var index: Int
    /// Path with query, exactly as sent.
    public var path: String
    /// The step kind applied (`LLMStep.kind`), or "unauthorized" (401) / "bad_request" (400)
    /// for requests that consumed no step.
    public var step: String
    /// The usage the server returned in a 200 answer; nil for errors, drops, and answers whose
    /// client had already gone (a timeout). Sum these to check the app's ledger.
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// "score" or "summarize", from the INPUT line; nil for 401s and 400s.
    public var task: String?
    /// The papers in the INPUT line, in order.
    public var paperIDs: [String]
    /// The INPUT line's "languages" (score) or ["language"] (summarize).
    public var languages: [String]
    /// The request's "model".
    public var model: String?
    /// The HTTP status the server chose; nil for drops and while the request is in flight.
    public var status: Int?
    /// Whether a response was written to a client that was still connected.
    public var delivered: Bool
    /// Server-side monotonic clock, in seconds; only differences between requests mean anything.
    public var arrival: Double
    /// The client's TCP port: two requests with the same port shared one connection.
    public var clientPort: Int
    /// The Authorization header as sent.
    public var authorization: String?
    public var headers: [(name: String, value: String)]
    /// The request body as sent.
    public var body: Data

    /// Case-insensitive; the last occurrence when a field repeats.
    public func header(_ name: String) -> String? {
        headers.last { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }

    /// The request's `max_tokens`, if it sent one.
    public var maxTokens: Int? {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["max_tokens"] as? Int
    }

    private enum CodingKeys: String, CodingKey {
        case index, path, step, usage, task, languages, model, status, delivered, arrival, headers
        case paperIDs = "paper_ids"
        case clientPort = "client_port"
        case bodyText = "body_text"
    }

    private struct Usage: Decodable {
        var promptTokens: Int
        var completionTokens: Int

        private enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        index = try container.decode(Int.self, forKey: .index)
        path = try container.decode(String.self, forKey: .path)
        step = try container.decode(String.self, forKey: .step)
        let usage = try container.decodeIfPresent(Usage.self, forKey: .usage)
        promptTokens = usage?.promptTokens
        completionTokens = usage?.completionTokens
        task = try container.decodeIfPresent(String.self, forKey: .task)
        paperIDs = try container.decode([String].self, forKey: .paperIDs)
        languages = try container.decode([String].self, forKey: .languages)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        status = try container.decodeIfPresent(Int.self, forKey: .status)
        delivered = try container.decode(Bool.self, forKey: .delivered)
        arrival = try container.decode(Double.self, forKey: .arrival)
        clientPort = try container.decode(Int.self, forKey: .clientPort)
        headers = try container.decode([[String]].self, forKey: .headers).compactMap { pair in
            pair.count == 2 ? (name: pair[0], value: pair[1]) : nil
        }
        body = Data(try container.decode(String.self, forKey: .bodyText).utf8)
        authorization = headers.last { $0.name.lowercased() == "authorization" }?.value
    }
}

public enum LocalLLMServerError: Error, CustomStringConvertible {
    case didNotStart(firstLine: String?, exitStatus: Int32)
    case scriptRejected(status: Int, body: String)
    case badURL(String)

    public var description: String {
        switch self {
        case .didNotStart(let line, let status):
            "llm_server.py did not announce its port (first line: \(line ?? "none"), exit status \(status)); see its stderr above"
        case .scriptRejected(let status, let body):
            "llm_server.py rejected the script (HTTP \(status)): \(body)"
        case .badURL(let url):
            "not a URL: \(url)"
        }
    }
}
