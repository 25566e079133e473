import Crypto
import Foundation

/// The link in every email to the reader's own edition on the web: the same papers, numbers
/// and language as the email, not the whole day's archive page.
///
/// An edition is the day, the reader's categories and language, shared by everyone who chose
/// the same, so the link names no subscriber; its MAC (server secret) keeps the site from
/// rendering any combination someone types, and lets the email's one link serve every reader
/// of that edition.
public struct EditionLink: Sendable, Hashable {
    public var day: Day
    public var categories: [String]
    public var language: Language

    public init(day: Day, categories: [String], language: Language) {
        self.day = day
        self.categories = categories.sorted()
        self.language = language
    }

    /// `/edition/2026-02-20?c=cs.AI,cs.LG&l=zh&s=…`
    public func path(key: SymmetricKey) -> String {
        "/edition/\(day)?c=\(categories.joined(separator: ","))&l=\(language.rawValue)&s=\(mac(key: key))"
    }

    func mac(key: SymmetricKey) -> String {
        let message = "edition \(day) \(categories.joined(separator: ",")) \(language.rawValue)"
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return String(Data(code).prefix(12).base64URLEncoded)
    }

    /// The edition a link's query names, when its MAC matches one of `keys`.
    public static func verified(day: Day, categories: String?, language: String?, mac: String?, keys: [SymmetricKey]) -> EditionLink? {
        guard let categories, let language = language.flatMap(Language.init(rawValue:)), let mac, !categories.isEmpty else { return nil }
        let link = EditionLink(day: day, categories: categories.split(separator: ",").map(String.init), language: language)
        for key in keys {
            let expected = Array(link.mac(key: key).utf8)
            let given = Array(mac.utf8)
            if expected.count == given.count, zip(expected, given).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 { return link }
        }
        return nil
    }
}
