/// An arXiv subject category, with the names the digest shows beside its code (`cs.AI (人工智能)`).
///
/// Subscribers choose categories by code; codes are checked against ``all`` so that a typo
/// is an error at the moment it is typed, not an empty newsletter weeks later.
public struct ArxivCategory: Sendable, Hashable {
    public let code: String
    public let englishName: String
    public let chineseName: String

    public init(code: String, englishName: String, chineseName: String) {
        self.code = code
        self.englishName = englishName
        self.chineseName = chineseName
    }

    /// The categories a new subscriber gets when they choose none, and that every fetch includes.
    public static let defaultCodes = ["cs.AI", "cs.CL", "cs.LG"]

    private static let byCode: [String: ArxivCategory] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.code, $0) }
    )

    /// The category for an exact arXiv code, or `nil` when arXiv has no such category.
    public static func named(_ code: String) -> ArxivCategory? {
        byCode[code]
    }

    /// The name in the reader's language.
    public func name(in language: Language) -> String {
        switch language {
        case .zh: chineseName
        case .en: englishName
        }
    }
}

extension ArxivCategory {
    /// Checks one code.
    ///
    /// - Throws: ``InputError/unknownCategory(_:)`` when arXiv has no such category.
    public static func validCode(_ code: String) throws(InputError) -> String {
        guard named(code) != nil else { throw .unknownCategory(code) }
        return code
    }

    /// Splits a list of codes as people type them (`cs.AI,cs.LG`, `cs.AI; cs.LG`, `cs.AI cs.LG`),
    /// checks every code, and returns them without duplicates in the order given.
    ///
    /// - Throws: ``InputError/unknownCategory(_:)`` naming the first code arXiv does not have.
    public static func parseList(_ text: String) throws(InputError) -> [String] {
        var codes: [String] = []
        for piece in text.split(whereSeparator: { $0 == "," || $0 == ";" || $0.isWhitespace }) {
            let code = try validCode(String(piece))
            if !codes.contains(code) {
                codes.append(code)
            }
        }
        return codes
    }
}
