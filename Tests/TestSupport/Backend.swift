/// The two engines a store runs on: a test given `Backend.allCases` as its arguments runs on
/// each, so that both implementations keep the same behaviour.
public enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgres

    public var description: String { rawValue }
}
