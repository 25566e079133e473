import Foundation
import PaperPostCore
import PaperPostStore

/// The day's account with the model. Every call goes into the ledger as the endpoint reported
/// it. With a cap, a call first reserves its worst case (its estimated prompt plus `max_tokens`,
/// at the configured prices); a call that does not fit is not made, so the day's spending,
/// summed over every run, never exceeds the cap. A part of the cap can be held back for a later
/// purpose (the must-read summaries) so that scoring cannot use it up.
actor Spending {
    let day: Day
    let settings: LLMSettings
    let store: any CurationLedger
    /// Spent on this day before this run, from the ledger.
    let spentBefore: Double
    /// Spent by this run.
    private(set) var spent = 0.0
    private var reserved = 0.0
    private var held = 0.0
    private(set) var capReached = false

    init(day: Day, settings: LLMSettings, store: any CurationLedger) async throws {
        self.day = day
        self.settings = settings
        self.store = store
        self.spentBefore = try await store.usage(on: day, currency: settings.currency).cost ?? 0
    }

    /// A generous estimate of a prompt's tokens: a token per three bytes of UTF-8 (English runs
    /// about four characters a token, Chinese about one character of three bytes), plus the
    /// per-message overhead.
    static func estimatedTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(8) { $0 + $1.content.utf8.count / 3 + 8 }
    }

    func worstCase(_ messages: [ChatMessage], maxTokens: Int) -> Double {
        settings.cost(promptTokens: Self.estimatedTokens(messages), completionTokens: maxTokens) ?? 0
    }

    /// What is left of the cap for calls that may use the held-back part (`useHeld`) or not.
    func available(useHeld: Bool) -> Double? {
        guard let cap = settings.maxCost, settings.pricePerMillionInput != nil else { return nil }
        return cap - spentBefore - spent - reserved - (useHeld ? 0 : held)
    }

    /// Holds back up to `amount` for calls made with `useHeld`.
    func hold(_ amount: Double) {
        guard let left = available(useHeld: true) else { return }
        held = max(0, min(amount, left))
    }

    func releaseHeld() {
        held = 0
    }

    /// Reserves the worst case of a call; `nil` when it does not fit under the cap.
    func reserve(_ messages: [ChatMessage], maxTokens: Int, useHeld: Bool) -> Double? {
        let cost = worstCase(messages, maxTokens: maxTokens)
        if let left = available(useHeld: useHeld) {
            guard cost <= left else {
                capReached = true
                return nil
            }
            if useHeld { held = max(0, held - cost) }
        }
        reserved += cost
        return cost
    }

    /// Records a call in the ledger and releases its reservation. `promptTokens` and
    /// `completionTokens` are what the endpoint reported, whenever a body arrived.
    func record(
        _ purpose: LLMCall.Purpose, language: Language?, papers: [String], promptTokens: Int, completionTokens: Int,
        latency: Duration, outcome: LLMCall.Outcome, detail: String?, reservation: Double
    ) async throws {
        reserved -= reservation
        let cost = settings.cost(promptTokens: promptTokens, completionTokens: completionTokens)
        spent += cost ?? 0
        try await store.record(LLMCall(
            day: day, purpose: purpose, language: language, model: settings.model, paperIDs: papers,
            promptTokens: promptTokens, completionTokens: completionTokens,
            cost: cost, currency: settings.currency, latency: latency, outcome: outcome, detail: detail))
    }
}
