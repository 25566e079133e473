/// Keeps exported cells from running as spreadsheet formulas (CSV injection).
///
/// A spreadsheet opening the export treats a cell that starts with `=`, `+`, `-`, `@`, a tab or
/// a carriage return as a formula, so a subscriber named `=HYPERLINK(…)` would run in the
/// operator's spreadsheet. As OWASP advises, such a cell is written with a leading `'`, which
/// spreadsheets show as text and do not display. The import takes that quote off again, so an
/// export imports back to exactly the same values.
enum SpreadsheetFormula {
    static let triggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// `text` as an exported cell: with one more leading `'` when, after its own leading quotes,
    /// it starts like a formula. Counting the value's own quotes is what makes the import's
    /// ``restored(_:)`` exact: a name that really is `'=x` is written `''=x` and read back as `'=x`.
    static func defused(_ text: String) -> String {
        startsLikeFormula(text) ? "'" + text : text
    }

    /// An imported field with the quote ``defused(_:)`` added taken off: exactly one leading `'`,
    /// and only when what follows it starts like a formula.
    static func restored(_ text: String) -> String {
        text.first == "'" && startsLikeFormula(text.dropFirst()) ? String(text.dropFirst()) : text
    }

    private static func startsLikeFormula(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.drop { $0 == "'" }.first.map(triggers.contains) ?? false
    }
}
