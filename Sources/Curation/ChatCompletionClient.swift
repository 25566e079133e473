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
}

/// A call that brought no answer. The message never contains the API key.
public struct LLMError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public var latency: Duration
}

/// Any OpenAI-compatible chat-completions endpoint, over the libcurl HTTP client. Transient
/// failures (timeouts, 429, 5xx) are retried with backoff, honouring `Retry-After`.
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
        self.http = HTTPClient(
            userAgent: userAgent,
            retryPolicy: RetryPolicy(
                maxAttempts: 3, baseDelay: settings.retryDelay, maxDelay: .seconds(60),
                retryableStatuses: [408, 409, 425, 429, 500, 502, 503, 504]),
            maxBodyBytes: maxResponseBytes)
    }

    public func complete(_ messages: [ChatMessage]) async throws(LLMError) -> ChatCompletion {
        struct Request: Encodable {
            struct ResponseFormat: Encodable { var type = "json_object" }
            var model: String
            var messages: [ChatMessage]
            var temperature = 0.2
            var response_format: ResponseFormat?
        }
        struct Response: Decodable {
            struct Choice: Decodable {
                struct Message: Decodable { var content: String? }
                var message: Message
            }
            struct Usage: Decodable {
                var prompt_tokens: Int?
                var completion_tokens: Int?
            }
            var choices: [Choice]
            var usage: Usage?
        }

        let start = ContinuousClock.now
        let body = Request(model: settings.model, messages: messages, response_format: settings.jsonMode ? .init() : nil)
        let request = HTTPRequest(
            method: .post, url: settings.baseURL + "/chat/completions",
            headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(apiKey)")],
            body: try? JSONEncoder().encode(body), totalTimeout: settings.timeout)
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch {
            throw LLMError(description: Self.explain(error), latency: ContinuousClock.now - start)
        }
        let latency = ContinuousClock.now - start
        guard let decoded = try? JSONDecoder().decode(Response.self, from: response.body),
            let content = decoded.choices.first?.message.content
        else {
            throw LLMError(
                description: "\(request.url) answered without a chat completion: \(String(decoding: response.body.prefix(200), as: UTF8.self))",
                latency: latency)
        }
        return ChatCompletion(
            content: content, promptTokens: decoded.usage?.prompt_tokens ?? 0,
            completionTokens: decoded.usage?.completion_tokens ?? 0, latency: latency)
    }

    private static func explain(_ error: HTTPError) -> String {
        if case .status(let url, let status, _, _, _) = error, status == 401 || status == 403 {
            return "\(url) refused the API key (HTTP \(status)): check PAPERPOST_LLM_API_KEY"
        }
        return error.description
    }
}
