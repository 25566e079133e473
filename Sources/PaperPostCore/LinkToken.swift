import Crypto
import Foundation

/// The capability in every emailed link: `purpose.subscriber.expiry.signature`, and for a link
/// about one thing (a vote on a paper) `purpose.subscriber.expiry.subject.signature`, the
/// subject base64url-encoded and covered by the signature.
///
/// The signature is HMAC-SHA256 with the server secret over the purpose, the subscriber's id,
/// the expiry and the subscriber's own secret. So a token is unguessable, cannot be turned into
/// another purpose or another subscriber, needs no token table (checking it reads only the
/// subscriber's row, which the action needs anyway), and rotating the subscriber's secret
/// revokes every link already mailed to them.
public struct LinkToken: Sendable, Hashable {
    public enum Purpose: String, Sendable, CaseIterable {
        case unsubscribe = "u"
        case preferences = "p"
        case confirm = "c"
        /// "More / less like this" under a paper: the subject names the paper and the vote.
        case feedback = "f"

        /// Whether tokens of this purpose carry a subject.
        var hasSubject: Bool { self == .feedback }
    }

    public var purpose: Purpose
    public var subscriberID: Int64
    /// Unix seconds; 0 for links that do not expire.
    public var expires: Int64
    /// What the link is about, for purposes that have one (``Purpose/feedback``); else `nil`.
    public var subject: String?

    public init(purpose: Purpose, subscriberID: Int64, expires: Date? = nil, subject: String? = nil) {
        self.purpose = purpose
        self.subscriberID = subscriberID
        self.expires = expires.map { Int64($0.timeIntervalSince1970) } ?? 0
        self.subject = subject
    }

    /// The token as it goes into a URL (only URL-safe characters).
    public func signed(serverSecret: SymmetricKey, subscriberSecret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message(subscriberSecret).utf8), using: serverSecret)
        let subject = self.subject.map { ".\(Array($0.utf8).base64URLEncoded)" } ?? ""
        return "\(purpose.rawValue).\(subscriberID).\(expires)\(subject).\(Array(mac).base64URLEncoded)"
    }

    /// Signs many tokens for one reader that differ only in their subject (the feedback links
    /// under every paper of an email): the HMAC of the common prefix is computed once and
    /// copied for each subject, giving the same tokens as ``signed(serverSecret:subscriberSecret:)``
    /// at a fraction of the cost.
    public struct SubjectSigner: Sendable {
        let head: String
        let prefix: HMAC<SHA256>

        public init(purpose: Purpose, subscriberID: Int64, expires: Date?, serverSecret: SymmetricKey, subscriberSecret: String) {
            let claims = LinkToken(purpose: purpose, subscriberID: subscriberID, expires: expires)
            head = "\(purpose.rawValue).\(subscriberID).\(claims.expires)."
            var prefix = HMAC<SHA256>(key: serverSecret)
            prefix.update(data: Data((claims.message(subscriberSecret) + "|").utf8))
            self.prefix = prefix
        }

        public func signed(subject: String) -> String {
            signed(Subject(subject))
        }

        /// For a subject prepared once and signed for many readers.
        public func signed(_ subject: Subject) -> String {
            var hmac = prefix
            hmac.update(data: subject.bytes)
            return head + subject.encoded + "." + Array(hmac.finalize()).base64URLEncoded
        }
    }

    /// A subject's bytes and its encoded form, which are the same in every reader's token.
    public struct Subject: Sendable, Hashable {
        let bytes: [UInt8]
        let encoded: String

        public init(_ text: String) {
            bytes = Array(text.utf8)
            encoded = bytes.base64URLEncoded
        }
    }

    /// Reads a token's claims without trusting them; ``verify(_:purpose:serverSecret:subscriberSecret:now:)``
    /// is what checks them.
    public init?(unverified token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard let first = parts.first, let purpose = Purpose(rawValue: String(first)), parts.count == (purpose.hasSubject ? 5 : 4),
            let id = Self.canonicalNumber(parts[1]), let expires = Self.canonicalNumber(parts[2]),
            Data(base64URLEncoded: String(parts[parts.count - 1])) != nil
        else { return nil }
        if purpose.hasSubject {
            guard let data = Data(base64URLEncoded: String(parts[3])), let subject = String(data: data, encoding: .utf8) else { return nil }
            self.subject = subject
        }
        self.purpose = purpose
        self.subscriberID = id
        self.expires = expires
    }

    /// Only the spelling ``signed(serverSecret:subscriberSecret:)`` writes: ASCII digits, no sign,
    /// no leading zero. `Int64("05")` and `Int64("+5")` are both 5, and since the signature covers
    /// the number rather than its text, every such spelling of a mailed link would verify too.
    private static func canonicalNumber(_ text: Substring) -> Int64? {
        guard let first = text.utf8.first, text.utf8.allSatisfy({ (48...57).contains($0) }), first != 48 || text.utf8.count == 1
        else { return nil }
        return Int64(text)
    }

    public enum Rejection: Error, Sendable, Equatable {
        case malformed, wrongPurpose, expired, badSignature
    }

    /// Checks a token for `purpose`, comparing signatures in constant time.
    public static func verify(
        _ token: String, purpose: Purpose, serverSecret: SymmetricKey, subscriberSecret: String, now: Date = Date()
    ) throws(Rejection) -> LinkToken {
        guard let claims = LinkToken(unverified: token),
            let signature = token.split(separator: ".").last.flatMap({ Data(base64URLEncoded: String($0)) })
        else { throw .malformed }
        guard claims.purpose == purpose else { throw .wrongPurpose }
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data(claims.message(subscriberSecret).utf8), using: serverSecret)
        else { throw .badSignature }
        guard claims.expires == 0 || Int64(now.timeIntervalSince1970) <= claims.expires else { throw .expired }
        return claims
    }

    /// ``verify(_:purpose:serverSecret:subscriberSecret:now:)`` with each key in turn (the
    /// current secret, then `PAPERPOST_SECRET_PREVIOUS`): a link signed before a rotation
    /// still works.
    public static func verify(
        _ token: String, purpose: Purpose, serverSecrets: [SymmetricKey], subscriberSecret: String, now: Date = Date()
    ) throws(Rejection) -> LinkToken {
        for key in serverSecrets {
            do {
                return try verify(token, purpose: purpose, serverSecret: key, subscriberSecret: subscriberSecret, now: now)
            } catch .badSignature {
                continue
            }
        }
        throw .badSignature
    }

    private func message(_ subscriberSecret: String) -> String {
        "paperpost-link-v1|\(purpose.rawValue)|\(subscriberID)|\(expires)|\(subscriberSecret)" + (subject.map { "|\($0)" } ?? "")
    }
}

extension Array where Element == UInt8 {
    private static let base64URLAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5). Written out by hand, over
    /// an array rather than `Data` (whose indexing is several times slower): every emailed link
    /// carries one or two, so it runs millions of times per send.
    public var base64URLEncoded: String {
        let alphabet = Self.base64URLAlphabet
        var output: [UInt8] = []
        output.reserveCapacity((count + 2) / 3 * 4)
        var index = 0
        while index < count {
            let remaining = count - index
            let value = UInt32(self[index]) << 16 | UInt32(remaining > 1 ? self[index + 1] : 0) << 8 | UInt32(remaining > 2 ? self[index + 2] : 0)
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            if remaining > 1 { output.append(alphabet[Int(value >> 6 & 63)]) }
            if remaining > 2 { output.append(alphabet[Int(value & 63)]) }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension Data {
    /// See `[UInt8].base64URLEncoded`.
    public var base64URLEncoded: String {
        Array(self).base64URLEncoded
    }

    /// Decodes only the canonical spelling: the unused low bits of the last character must be
    /// zero, so that a token has exactly one valid form (otherwise `…A` and `…B` can decode to
    /// the same bytes).
    public init?(base64URLEncoded text: String) {
        guard text.utf8.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95 })
        else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), data.base64URLEncoded == text else { return nil }
        self = data
    }
}
