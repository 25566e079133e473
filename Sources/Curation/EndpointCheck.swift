import PaperPostCore

/// The smallest call that shows the model endpoint works with this key: the probe every run
/// starts with, for `paperpost check --live`.
public enum EndpointCheck {
    /// - Returns: the answer (its tokens say what the check cost), or `nil` without an API key.
    public static func run(_ settings: Settings) async throws(LLMError) -> ChatCompletion? {
        guard let key = settings.llm.apiKey else { return nil }
        let client = ChatCompletionClient(
            settings: settings.llm, apiKey: key, userAgent: "PaperPost (+\(settings.baseURL))", maxResponseBytes: settings.httpMaxBytes)
        return try await client.complete(Prompts.probeMessages, maxTokens: LLMCurator.probeMaxTokens, timeout: settings.llm.probeTimeout)
    }
}
