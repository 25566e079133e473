/// The language a subscriber reads their digest in.
public enum Language: String, Sendable, Hashable, CaseIterable, Codable {
    case zh
    case en

    /// Parses `zh` or `en` (any case).
    ///
    /// - Throws: ``InputError/invalidLanguage(_:)`` naming the value.
    public init(parsing text: String) throws(InputError) {
        guard let language = Language(rawValue: text.lowercased()) else {
            throw .invalidLanguage(text)
        }
        self = language
    }
}
