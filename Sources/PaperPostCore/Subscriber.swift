import Foundation

/// A person on the list, as the store knows them.
///
/// A forgotten subscriber (`paperpost subscribers remove --forget`) keeps only a hash of their
/// address, so ``email`` is `nil` for them: the row exists to keep them suppressed.
public struct Subscriber: Sendable, Hashable, Identifiable {
    public var id: Int64
    public var email: String?
    public var name: String?
    public var language: Language
    public var status: SubscriberStatus
    /// arXiv category codes, in the order the subscriber chose them.
    public var categories: [String]
    /// Days a bounce was counted on.
    public var bounceCount: Int
    /// See ``BouncePolicy``: at the threshold the subscriber becomes `bounced`.
    public var bounceScore: Double
    public var createdAt: Date
    public var confirmedAt: Date?
    public var unsubscribedAt: Date?
    /// Interest phrases, muted phrases and followed authors (see ``ReaderInterests``).
    public var interests: ReaderInterests
    public var schedule: Schedule

    public init(
        id: Int64, email: String?, name: String?, language: Language, status: SubscriberStatus,
        categories: [String], bounceCount: Int, bounceScore: Double = 0, createdAt: Date, confirmedAt: Date?, unsubscribedAt: Date?,
        interests: ReaderInterests = .none, schedule: Schedule = .daily
    ) {
        self.schedule = schedule
        self.id = id
        self.email = email
        self.name = name
        self.language = language
        self.status = status
        self.categories = categories
        self.bounceCount = bounceCount
        self.bounceScore = bounceScore
        self.createdAt = createdAt
        self.confirmedAt = confirmedAt
        self.unsubscribedAt = unsubscribedAt
        self.interests = interests
    }

    public var isForgotten: Bool { email == nil }
}

/// What happened to a subscriber, and who made it happen. The audit trail is what lets an
/// operator answer "why did I get this?" and "why did I stop getting this?".
public struct SubscriberEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case added, imported, confirmed, updated
        case categoriesChanged = "categories_changed"
        case statusChanged = "status_changed"
        case unsubscribed, resubscribed, forgotten, bounced
    }

    public enum Source: String, Sendable, Codable, CaseIterable {
        case cli, `import`, web, link, bounce
    }

    public var kind: Kind
    public var source: Source
    public var detail: String?
    public var at: Date

    public init(kind: Kind, source: Source, detail: String?, at: Date) {
        self.kind = kind
        self.source = source
        self.detail = detail
        self.at = at
    }
}

extension Subscriber {
    /// A display name as people may give it: trimmed, runs of whitespace (line breaks included:
    /// a spreadsheet cell may hold one) folded to one space, at most 100 characters, no other
    /// control characters and no bidirectional overrides (it goes into mail headers and pages).
    /// Empty means no name.
    ///
    /// - Throws: ``InputError/invalidValue(field:value:reason:)`` for the field `name`.
    public static func validName(_ text: String) throws(InputError) -> String? {
        if text.isFoldedASCII {
            guard text.utf8.count <= 100 else {
                throw .invalidValue(field: "name", value: text, reason: "longer than 100 characters")
            }
            return text
        }
        let folded = text.unicodeScalars.split(omittingEmptySubsequences: true) {
            $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{2028}" || $0 == "\u{2029}" || $0 == "\u{A0}"
        }.map { String(String.UnicodeScalarView($0)) }.joined(separator: " ")
        let name = folded.trimmingSpaces()
        guard !name.isEmpty else { return nil }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidValue(field: "name", value: text, reason: "contains a control character")
        }
        if name.unicodeScalars.contains(where: { (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) }) {
            throw .invalidValue(field: "name", value: text, reason: "contains a bidirectional override (it could reverse how the text around it reads)")
        }
        guard name.count <= 100 else {
            throw .invalidValue(field: "name", value: text, reason: "longer than 100 characters")
        }
        return name
    }
}

extension String {
    /// Printable ASCII words with single spaces between them and none around: a name that
    /// folding and trimming leave as it is and that has no control or bidirectional
    /// characters, as nearly every name in an import is (the general path costs microseconds
    /// a name in Unicode tables).
    fileprivate var isFoldedASCII: Bool {
        var afterSpace = true
        for byte in utf8 {
            if byte == 0x20 {
                if afterSpace { return false }
                afterSpace = true
            } else if (0x21...0x7E).contains(byte) {
                afterSpace = false
            } else {
                return false
            }
        }
        return !afterSpace
    }
}
