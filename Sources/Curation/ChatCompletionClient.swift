import Curl
import Foundation
import PaperPostCore

/// A message of a chat-completions conversation.
public struct ChatMessage: Sendable, Hashable, Codable {
    public var role: String
    public var content: String

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// The model's answer and what the endpoint says it cost.
public struct ChatCompletion: Sendable {
    public var content: String
    public var promptTokens: Int
    public var completionTokens: Int
    public var latency: Duration
    /// `"length"` when the answer was cut at `max_tokens`.
    public var finishReason: String?
}

/// A call that brought no usable answer. The message never contains the API key.
public struct LLMError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure decides what happens next.
    public enum Kind: Sendable, Equatable {
        /// The endpoint refuses this configuration (key, model, account balance): every other
        /// call would fail the same way, so curation stops at the first one.
        case configuration
        /// The endpoint is busy, failing or slow (429, 5xx, timeouts): worth a retry, and
        /// counted by the circuit breaker.
        case unavailable
        /// A 200 whose body is not a chat completion with content (an HTML page, empty
        /// content): worth asking once more.
        case unusable
    }

    public var kind: Kind
    public var description: String
    public var latency: Duration
    /// What the endpoint reported, whenever a body with usage arrived (an empty answer is billed too).
    public var promptTokens = 0
    public var completionTokens = 0
    /// The server's `Retry-After`, in seconds, for a 429 or 503.
    public var retryAfter: Duration?
}

/// Any OpenAI-compatible chat-completions endpoint, over the libcurl HTTP client. One call is
/// one request: retries, the circuit breaker and the deadline are the curator's (``ModelGate``),
/// because only it knows how many papers are waiting and how much time is left.
public struct ChatCompletionClient: Sendable {
    let settings: LLMSettings
    let apiKey: String
    let http: HTTPClient

    /// - Parameter maxResponseBytes: the largest answer accepted (`PAPERPOST_HTTP_MAX_BYTES`).
    public init(
        settings: LLMSettings, apiKey: String, userAgent: String, maxResponseBytes: Int = HTTPClient.defaultMaxBodyBytes
    ) {
        self.settings = settings
        self.apiKey = apiKey
        self.http = HTTPClient(userAgent: userAgent, retryPolicy: .none, maxBodyBytes: maxResponseBytes)
    }

    /// One request.
    ///
    /// - Parameters:
    ///   - maxTokens: sent as `max_tokens`, so that an answer's cost has a known worst case.
    ///   - timeout: this request's limit; the curator passes the smaller of the configured
    ///     timeout and what is left of the run's deadline.
    ///   - abandon: polled while the request waits; true ends it (the run stopped calling the model).
    public func complete(
        _ messages: [ChatMessage], maxTokens: Int, timeout: Duration? = nil, abandon: (@Sendable () -> Bool)? = nil
    ) async throws(LLMError) -> ChatCompletion {
        struct Request: Encodable {
            struct ResponseFormat: Encodable { var type = "json_object" }
            var model: String
            var messages: [ChatMessage]
            var temperature = 0.2
            var max_tokens: Int
            var response_format: ResponseFormat?
        }
        struct Response: Decodable {
            struct Choice: Decodable {
                struct Message: Decodable { var content: String? }
                var message: Message?
                var finish_reason: String?
            }
            struct Usage: Decodable {
                var prompt_tokens: Int?
                var completion_tokens: Int?
            }
            var choices: [Choice]?
            var usage: Usage?
        }

        let start = ContinuousClock.now
        let body = Request(
            model: settings.model, messages: messages, max_tokens: maxTokens, response_format: settings.jsonMode ? .init() : nil)
        var request = HTTPRequest(
            method: .post, url: settings.baseURL + "/chat/completions",
            headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(apiKey)")],
            body: try? JSONEncoder().encode(body), totalTimeout: timeout ?? settings.timeout)
        request.abandon = abandon
        let response: HTTPResponse
        do {
            response = try await http.send(request, accept: { _ in true })
        } catch {
            let description = abandon?() == true ? "abandoned: the run had stopped calling the model" : error.description
            throw LLMError(kind: .unavailable, description: description, latency: ContinuousClock.now - start)
        }
        let latency = ContinuousClock.now - start
        let decoded = try? JSONDecoder().decode(Response.self, from: response.body)
        let usage = decoded?.usage
        guard (200..<300).contains(response.status) else {
            var error = Self.classify(status: response.status, url: request.url, body: response.body)
            error.latency = latency
            error.promptTokens = usage?.prompt_tokens ?? 0
            error.completionTokens = usage?.completion_tokens ?? 0
            error.retryAfter = response.header("retry-after").flatMap(Double.init).map { .seconds($0) }
            throw error
        }
        guard let choice = decoded?.choices?.first, let content = choice.message?.content,
            !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            let what = decoded?.choices?.first != nil ? "a chat completion with empty content" : "no chat completion"
            throw LLMError(
                kind: .unusable,
                description: "\(request.url) answered HTTP \(response.status) with \(what): \(Self.excerpt(response.body))",
                latency: latency, promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0)
        }
        return ChatCompletion(
            content: content, promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0,
            latency: latency, finishReason: choice.finish_reason)
    }

    /// A refusal in words an operator can act on, naming the variable to fix.
    static func classify(status: Int, url: String, body: Data) -> LLMError {
        let said = excerpt(body)
        func configuration(_ text: String) -> LLMError {
            LLMError(kind: .configuration, description: "\(url) answered HTTP \(status) (\(said)): \(text)", latency: .zero)
        }
        switch status {
        case 401, 403:
            return configuration("the endpoint refuses the API key; check PAPERPOST_LLM_API_KEY (and PAPERPOST_LLM_BASE_URL)")
        case 402:
            return configuration("the account cannot pay (insufficient balance); top up the account of PAPERPOST_LLM_API_KEY")
        case 404:
            return configuration("the model or the endpoint does not exist; check PAPERPOST_LLM_MODEL and PAPERPOST_LLM_BASE_URL")
        case 408, 409, 425, 429, 500...599:
            return LLMError(
                kind: .unavailable, description: "\(url) answered HTTP \(status) (\(said)): the endpoint is busy or failing", latency: .zero)
        default:
            return configuration(
                "the endpoint rejects the request; check PAPERPOST_LLM_MODEL, PAPERPOST_LLM_BASE_URL and PAPERPOST_LLM_JSON_MODE")
        }
    }

    /// The start of a body on one line, since error bodies usually say what is wrong.
    static func excerpt(_ body: Data) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? "empty body" : "\"\(text)\""
    }
}
