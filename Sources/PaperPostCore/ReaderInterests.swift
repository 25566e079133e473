import Foundation

/// What a reader told us about their taste, beyond categories: phrases they care about,
/// phrases they never want to see, and authors they follow. Ranking reads them (see the
/// `Ranking` module); readers who set none get the day's edition for their categories.
public struct ReaderInterests: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// "retrieval-augmented generation": papers that mention it move up.
        case interest
        /// "diffusion": papers that mention it are left out.
        case muted
        /// "Yoshua Bengio": their papers move up.
        case author

        /// The field's name in CSV files, forms and errors.
        public var field: String {
            switch self {
            case .interest: "interests"
            case .muted: "muted"
            case .author: "authors"
            }
        }
    }

    public private(set) var interests: [String]
    public private(set) var muted: [String]
    public private(set) var authors: [String]

    public static let maximumCount = 20
    public static let maximumLength = 100
    public static let none = ReaderInterests()

    private init() {
        interests = []
        muted = []
        authors = []
    }

    /// Validated lists: each entry folded to single spaces, duplicates (ignoring case) dropped.
    ///
    /// - Throws: ``InputError/invalidValue(field:value:reason:)`` naming the field and entry.
    public init(interests: [String] = [], muted: [String] = [], authors: [String] = []) throws(InputError) {
        self.interests = try Self.validated(interests, .interest)
        self.muted = try Self.validated(muted, .muted)
        self.authors = try Self.validated(authors, .author)
    }

    public var isEmpty: Bool { interests.isEmpty && muted.isEmpty && authors.isEmpty }

    public subscript(kind: Kind) -> [String] {
        switch kind {
        case .interest: interests
        case .muted: muted
        case .author: authors
        }
    }

    /// The same interests with one list replaced (validated).
    public func replacing(_ kind: Kind, with entries: [String]) throws(InputError) -> ReaderInterests {
        var copy = self
        let valid = try Self.validated(entries, kind)
        switch kind {
        case .interest: copy.interests = valid
        case .muted: copy.muted = valid
        case .author: copy.authors = valid
        }
        return copy
    }

    /// The same interests with every list in `changes` replaced.
    public func applying(_ changes: [Kind: [String]]) throws(InputError) -> ReaderInterests {
        var result = self
        for (kind, entries) in changes {
            result = try result.replacing(kind, with: entries)
        }
        return result
    }

    /// A list as typed in a CSV cell or on the command line: entries separated by `;` or line
    /// breaks (not commas: "graph neural networks, GNNs" and "Smith, J." are single entries).
    public static func parseList(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == ";" || $0.isNewline }).map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
    }

    /// One list as typed (see ``parseList(_:)``), validated as a `kind` list.
    ///
    /// - Throws: ``InputError/invalidValue(field:value:reason:)`` naming the field and entry.
    public static func parse(_ text: String, as kind: Kind) throws(InputError) -> [String] {
        try validated(parseList(text), kind)
    }

    /// Entries already split, validated as a `kind` list.
    public static func validated(_ entries: [String], as kind: Kind) throws(InputError) -> [String] {
        try validated(entries, kind)
    }

    /// Entries joined as ``parseList(_:)`` reads them back.
    public static func joined(_ entries: [String]) -> String {
        entries.joined(separator: "; ")
    }

    static func validated(_ entries: [String], _ kind: Kind) throws(InputError) -> [String] {
        var kept: [String] = []
        var seen = Set<String>()
        for entry in entries {
            let folded = entry.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            guard !folded.isEmpty else { continue }
            if folded.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw .invalidValue(field: kind.field, value: entry, reason: "contains a control character")
            }
            if folded.unicodeScalars.contains(where: { (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) }) {
                throw .invalidValue(field: kind.field, value: entry, reason: "contains a bidirectional override")
            }
            if folded.contains(";") {
                throw .invalidValue(field: kind.field, value: entry, reason: "contains ';', which separates entries")
            }
            guard folded.count <= maximumLength else {
                throw .invalidValue(field: kind.field, value: entry, reason: "longer than \(maximumLength) characters")
            }
            guard seen.insert(folded.lowercased()).inserted else { continue }
            kept.append(folded)
        }
        guard kept.count <= maximumCount else {
            throw .invalidValue(
                field: kind.field, value: joined(kept), reason: "has \(kept.count) entries; at most \(maximumCount) are allowed")
        }
        return kept
    }
}

/// Why a paper is where it is in a reader's own edition: shown as one line under it.
public enum PersonalReason: Sendable, Hashable {
    /// One of the reader's interest phrases is in the title or abstract.
    case interest(String)
    /// One of the authors is someone the reader follows (as the paper spells the name).
    case author(String)
    /// It is like the papers the reader voted up.
    case likeVotedUp
}

/// A reader's own edition: which papers, in which order, and why each one moved.
public struct PersonalEdition: Sendable, Hashable {
    public var mustRead: [String]
    public var more: [String]
    /// Paper id to the reason it ranks where it does; papers placed by the curation score alone
    /// have none.
    public var reasons: [String: PersonalReason]

    public init(mustRead: [String], more: [String], reasons: [String: PersonalReason]) {
        self.mustRead = mustRead
        self.more = more
        self.reasons = reasons
    }
}
