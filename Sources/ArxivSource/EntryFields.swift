import Foundation

// Field readers shared by the announcement feed and the API response, so both read categories and
// dates the same way.

extension XMLElementNode {
    /// Category terms in document order without repeats, after `first` when given: the first term is
    /// the primary category in both documents.
    func categoryTerms(after first: String? = nil) -> [String] {
        var terms: [String] = []
        for term in [first] + all(.atom("category")).map({ $0.attributes["term"] }) {
            guard let term = term?.nonBlankNormalized(), !terms.contains(term) else { continue }
            terms.append(term)
        }
        return terms
    }

    /// A date that is present must be readable: a silently missing date would hide a format change.
    func date(_ name: QualifiedName, of owner: String) throws(ArxivParseError) -> Date? {
        guard let element = first(name), let text = element.text.nonBlankNormalized() else { return nil }
        guard let date = ArxivDate.parse(text) else {
            throw .invalidEntry(line: element.line, reason: "unreadable <\(name.name)> date '\(text)' of \(owner)")
        }
        return date
    }
}
