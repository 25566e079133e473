import Crypto
import Foundation
import Hummingbird

/// Guards the forms without server-side sessions (a signed double-submit cookie): a random
/// nonce lives in an HttpOnly, SameSite=Lax cookie, and each form carries the HMAC of that
/// nonce. Another site can make a browser send the cookie, but can neither read it nor compute
/// the field, so its forged POST fails.
///
/// The RFC 8058 one-click unsubscribe POST is exempt by design: mail providers send it without
/// cookies, and its link token is the capability.
struct CSRFProtection: Sendable {
    static let cookieName = "paperpost_csrf"
    static let fieldName = "csrf"

    let key: SymmetricKey
    /// `Secure` cookies when the site is served over HTTPS.
    let secure: Bool

    init(serverSecret: SymmetricKey, baseURL: String) {
        key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("paperpost-csrf-v1".utf8), using: serverSecret))
        secure = baseURL.lowercased().hasPrefix("https:")
    }

    /// The request's nonce, or a new one that the response must set with ``cookie(_:)``.
    func nonce(for request: Request) -> (value: String, isNew: Bool) {
        if let value = request.cookies[Self.cookieName]?.value, Self.isWellFormed(value) {
            return (value, false)
        }
        return (Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64URLEncoded, true)
    }

    /// The form field that goes with a nonce.
    func field(for nonce: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(nonce.utf8), using: key)).base64URLEncoded
    }

    /// Whether a POST's field matches its cookie (compared in constant time).
    func isValid(_ field: String?, request: Request) -> Bool {
        guard let field, let mac = Data(base64URLEncoded: field),
            let nonce = request.cookies[Self.cookieName]?.value, Self.isWellFormed(nonce)
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(nonce.utf8), using: key)
    }

    func cookie(_ nonce: String) -> Cookie {
        Cookie(name: Self.cookieName, value: nonce, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    private static func isWellFormed(_ value: String) -> Bool {
        value.utf8.count == 22 && Data(base64URLEncoded: value) != nil
    }
}
