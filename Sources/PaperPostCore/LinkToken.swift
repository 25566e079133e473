import Crypto
import Foundation

/// The capability in every emailed link: `purpose.subscriber.expiry.signature`, and for a link
/// about one thing (a vote on a paper) `purpose.subscriber.expiry.subject.signature`, the
/// subject base64url-encoded and covered by the signature.
///
/// The signature is HMAC-SHA256 with the server secret over the purpose, the subscriber's id,
/// the expiry and the subscriber's own secret (a subject's tag is made with a key derived the
/// same way: see ``SubjectSigner``). So a token is unguessable, cannot be turned into
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
        Signer(serverSecret: serverSecret).signed(self, subscriberSecret: subscriberSecret)
    }

    /// The server secret made ready for signing many tokens. Setting up an HMAC key costs two
    /// thirds of signing a token this short, and a send signs several per message, so it is
    /// done once and the keyed state copied for each token.
    public struct Signer: Sendable {
        let keyed: HMAC<SHA256>

        public init(serverSecret: SymmetricKey) {
            keyed = HMAC<SHA256>(key: serverSecret)
        }

        /// HMAC-SHA256 of `message` under the server secret.
        public func authenticationCode(_ message: String) -> HashedAuthenticationCode<SHA256> {
            var hmac = keyed
            hmac.update(data: Array(message.utf8))
            return hmac.finalize()
        }

        /// The signer of one reader's subject tokens (see ``SubjectSigner``).
        public func subjectSigner(purpose: Purpose, subscriberID: Int64, expires: Date?, subscriberSecret: String) -> SubjectSigner {
            SubjectSigner(
                purpose: purpose, subscriberID: subscriberID, expires: LinkToken(purpose: purpose, subscriberID: subscriberID, expires: expires).expires,
                signer: self, subscriberSecret: subscriberSecret)
        }

        public func signed(_ token: LinkToken, subscriberSecret: String) -> String {
            if token.purpose.hasSubject, let subject = token.subject {
                return SubjectSigner(
                    purpose: token.purpose, subscriberID: token.subscriberID, expires: token.expires, signer: self,
                    subscriberSecret: subscriberSecret
                ).signed(Subject(subject))
            }
            let mac = authenticationCode(token.message(subscriberSecret))
            return "\(token.purpose.rawValue).\(token.subscriberID).\(token.expires).\(Array(mac).base64URLEncoded)"
        }
    }

    /// Signs the tokens of one reader that differ only in their subject: the feedback links
    /// under every paper of an email, eighteen per message.
    ///
    /// The reader's key is derived once, HMAC-SHA256 of the server secret over a label of its
    /// own, the purpose, the reader, the expiry and the reader's secret (so rotating either
    /// secret revokes the links, as with every token); each subject is then tagged with
    /// ``SipHash24`` under that key. The 64-bit tag cannot be guessed online, and a tag
    /// authorises one vote on one paper for one reader, which the email already gives them.
    public struct SubjectSigner: Sendable {
        let head: [UInt8]
        let mac: SipHash24

        public init(purpose: Purpose, subscriberID: Int64, expires: Date?, serverSecret: SymmetricKey, subscriberSecret: String) {
            self = Signer(serverSecret: serverSecret).subjectSigner(
                purpose: purpose, subscriberID: subscriberID, expires: expires, subscriberSecret: subscriberSecret)
        }

        init(purpose: Purpose, subscriberID: Int64, expires: Int64, signer: Signer, subscriberSecret: String) {
            head = Array("\(purpose.rawValue).\(subscriberID).\(expires).".utf8)
            let key = signer.authenticationCode("paperpost-subject-key-v1|\(purpose.rawValue)|\(subscriberID)|\(expires)|\(subscriberSecret)")
            mac = SipHash24(key: Array(key))
        }

        public func signed(subject: String) -> String {
            signed(Subject(subject))
        }

        public func signed(_ subject: Subject) -> String {
            var token: [UInt8] = []
            write(subject, into: &token)
            return String(decoding: token, as: UTF8.self)
        }

        /// Appends the token to `output`: the bytes go straight into the message being written.
        public func write(_ subject: Subject, into output: inout [UInt8]) {
            write(subject: subject.bytes.span, encoded: subject.encoded.span, into: &output)
        }

        /// Appends the token of a subject whose bytes and encoded form (see ``Subject``) are
        /// kept in some larger buffer: a message's bodies keep their links' subjects that way.
        public func write(subject: Span<UInt8>, encoded: Span<UInt8>, into output: inout [UInt8]) {
            output += head
            output.append(addingCapacity: encoded.count) { out in
                for index in encoded.indices { out.append(encoded[index]) }
            }
            output.append(UInt8(ascii: "."))
            // The tag's eight bytes (little-endian) in base64url: ten whole characters for the
            // first 60 bits, then the last 4 bits shifted up, as `base64URLEncoded` writes them.
            let tag = mac.tag(subject)
            let value = tag.byteSwapped
            let alphabet = [UInt8].base64URLAlphabet
            for index in 0..<10 {
                output.append(alphabet[Int(value >> (58 - UInt64(index) * 6) & 63)])
            }
            output.append(alphabet[Int(value & 15) << 2])
        }

        func tag(_ subject: [UInt8]) -> [UInt8] {
            let tag = mac.tag(subject)
            return (0..<8).map { UInt8(truncatingIfNeeded: tag >> (UInt64($0) * 8)) }
        }
    }

    /// A subject's bytes and its encoded form, which are the same in every reader's token.
    public struct Subject: Sendable, Hashable {
        public let bytes: [UInt8]
        /// The bytes in base64url, as the token carries them.
        public let encoded: [UInt8]

        public init(_ text: String) {
            bytes = Array(text.utf8)
            encoded = Array(bytes.base64URLEncoded.utf8)
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
        if let subject = claims.subject {
            let expected = SubjectSigner(
                purpose: purpose, subscriberID: claims.subscriberID, expires: claims.expires, signer: Signer(serverSecret: serverSecret),
                subscriberSecret: subscriberSecret
            ).tag(Array(subject.utf8))
            guard Array(signature).isEqualInConstantTime(to: expected) else { throw .badSignature }
        } else {
            guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data(claims.message(subscriberSecret).utf8), using: serverSecret)
            else { throw .badSignature }
        }
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
        "paperpost-link-v1|\(purpose.rawValue)|\(subscriberID)|\(expires)|\(subscriberSecret)"
    }
}

extension Array where Element == UInt8 {
    static let base64URLAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

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
