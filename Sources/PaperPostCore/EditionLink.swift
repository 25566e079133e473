import Crypto
import Foundation

/// The link in every email to the reader's own edition on the web: the same papers, numbers
/// and language as the email, not the whole day's archive page.
///
/// An edition is the day, the reader's categories and language, shared by everyone who chose
/// the same, so the link names no subscriber; its MAC (server secret) keeps the site from
/// rendering any combination someone types, and lets the email's one link serve every reader
/// of that edition.
///
/// Two kinds of reader need more: a weekly reader's edition is the week's (`w=1`), and a reader
/// whose interests or votes rank their papers has an edition of their own, so their link names
/// them (`r=ID`) and the page ranks the papers for them as the email did.
public struct EditionLink: Sendable, Hashable {
    public var day: Day
    public var categories: [String]
    public var language: Language
    public var weekly: Bool
    /// The subscriber whose own ranking the page shows; `nil` for a shared edition.
    public var reader: Int64?

    public init(day: Day, categories: [String], language: Language, weekly: Bool = false, reader: Int64? = nil) {
        self.day = day
        self.categories = categories.sorted()
        self.language = language
        self.weekly = weekly
        self.reader = reader
    }

    /// `/edition/2026-02-20?c=cs.AI,cs.LG&l=zh&s=…`, with `&w=1` and `&r=ID` when they apply.
    public func path(key: SymmetricKey) -> String {
        path(signer: LinkToken.Signer(serverSecret: key))
    }

    /// The same with the key set up once, for a send that links every personal reader's own.
    public func path(signer: LinkToken.Signer) -> String {
        "/edition/\(day)?c=\(categories.joined(separator: ","))&l=\(language.rawValue)" + (weekly ? "&w=1" : "")
            + (reader.map { "&r=\($0)" } ?? "") + "&s=\(mac(signer: signer))"
    }

    func mac(key: SymmetricKey) -> String {
        mac(signer: LinkToken.Signer(serverSecret: key))
    }

    private func mac(signer: LinkToken.Signer) -> String {
        let message = "edition \(day) \(categories.joined(separator: ",")) \(language.rawValue)" + (weekly ? " weekly" : "")
            + (reader.map { " reader \($0)" } ?? "")
        return Array(signer.authenticationCode(message)).prefix(12).map { $0 }.base64URLEncoded
    }

    /// The edition a link's query names, when its MAC matches one of `keys`.
    public static func verified(
        day: Day, categories: String?, language: String?, weekly: String? = nil, reader: String? = nil, mac: String?, keys: [SymmetricKey]
    ) -> EditionLink? {
        guard let categories, let language = language.flatMap(Language.init(rawValue:)), let mac, !categories.isEmpty,
            weekly == nil || weekly == "1"
        else { return nil }
        var id: Int64?
        if let reader {
            guard let number = Int64(reader), String(number) == reader else { return nil }
            id = number
        }
        let link = EditionLink(
            day: day, categories: categories.split(separator: ",").map(String.init), language: language, weekly: weekly == "1", reader: id)
        for key in keys where link.mac(key: key).isEqualInConstantTime(to: mac) {
            return link
        }
        return nil
    }
}
