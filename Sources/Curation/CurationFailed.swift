import PaperPostCore

/// The model failed and the operator chose no fallback (`PAPERPOST_LLM_FALLBACK=none`): no
/// digest was stored, so `daily` sends nothing and the next run tries again. Exit status 2.
public struct CurationFailed: Error, Sendable, CustomStringConvertible {
    public var day: Day
    public var stop: ModelStop

    public var description: String {
        "curation of \(day) failed: \(stop.description). No digest was made and nothing is sent (PAPERPOST_LLM_FALLBACK=none); "
            + "the next run tries again. Set PAPERPOST_LLM_FALLBACK=heuristic to send a labelled heuristic digest instead."
    }
}
