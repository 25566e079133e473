import Foundation
import PaperPostCore
import PaperPostStore

/// The run's account with the model: every call goes into the ledger as the endpoint reported
/// it, and once the spending cap is reached no further call is made.
actor Spending {
    let day: Day
    let settings: LLMSettings
    let store: CurationStore
    private(set) var spent = 0.0
    private(set) var capReached = false

    init(day: Day, settings: LLMSettings, store: CurationStore) {
        self.day = day
        self.settings = settings
        self.store = store
    }

    /// Whether another call may be made. The cap is checked before each call, so calls already
    /// in flight when it is reached may overshoot it by at most `concurrency` calls.
    func mayCall() -> Bool {
        if let cap = settings.maxCost, spent >= cap {
            capReached = true
        }
        return !capReached
    }

    func record(
        _ purpose: LLMCall.Purpose, language: Language?, papers: [String], completion: ChatCompletion?,
        latency: Duration, outcome: LLMCall.Outcome, detail: String?
    ) async throws {
        let cost = completion.flatMap { settings.cost(promptTokens: $0.promptTokens, completionTokens: $0.completionTokens) }
        spent += cost ?? 0
        try await store.record(LLMCall(
            day: day, purpose: purpose, language: language, model: settings.model, paperIDs: papers,
            promptTokens: completion?.promptTokens ?? 0, completionTokens: completion?.completionTokens ?? 0,
            cost: cost, currency: settings.currency, latency: latency, outcome: outcome, detail: detail))
    }
}
