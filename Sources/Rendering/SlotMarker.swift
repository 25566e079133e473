/// Where a recipient's own text goes in an otherwise shared body: `\u{E000}name\u{E001}`,
/// made of private-use characters that never occur in real text (and are stripped from
/// untrusted text by ``Swift/String/markdownEscaped``).
enum SlotMarker {
    static let open: Unicode.Scalar = "\u{E000}"
    static let close: Unicode.Scalar = "\u{E001}"

    static func isMarker(_ scalar: Unicode.Scalar) -> Bool {
        scalar == open || scalar == close
    }

    static func marker(_ slot: Slot) -> String {
        "\(open)\(slot.rawValue)\(close)"
    }
}

/// The parts of a message that differ between recipients.
public enum Slot: String, Sendable, CaseIterable {
    case greeting
    case unsubscribeURL = "unsubscribe_url"
    case preferencesURL = "preferences_url"
}
