import Crypto
import Foundation
import PaperPostCore
import _CryptoExtras

/// Why the DKIM keys cannot be used, naming the file and what to do.
public struct DKIMError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// DKIM signatures (RFC 6376, relaxed/relaxed canonicalisation) over the exact bytes a message
/// is sent with: `rsa-sha256` with the operator's RSA key and, when configured, a second
/// `ed25519-sha256` signature (RFC 8463).
///
/// Every message is signed on its own: the body differs per reader (greeting, signed links),
/// so its hash does too, and a signature over a shared edition would not verify.
public struct DKIMSigner: Sendable {
    enum Key: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)

        var algorithm: String {
            switch self {
            case .rsa: "rsa-sha256"
            case .ed25519: "ed25519-sha256"
            }
        }
    }

    /// The headers each signature covers, in `h=` order. From is named twice (oversigned), so
    /// a From header added on the way invalidates the signature; `List-Unsubscribe-Post` is
    /// what makes RFC 8058 one-click count with mailbox providers.
    static let signedHeaders = [
        "from", "from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-id", "list-unsubscribe",
        "list-unsubscribe-post",
    ]

    static let crlf: [UInt8] = [13, 10]
    let keys: [Key]
    public let domain: String
    public let selector: String

    /// The Ed25519 key's selector: a DNS name holds one key record, so the second key has its
    /// own, derived from the first.
    public static func ed25519Selector(_ selector: String) -> String {
        selector + "-ed25519"
    }

    func selector(of key: Key) -> String {
        switch key {
        case .rsa: selector
        case .ed25519: Self.ed25519Selector(selector)
        }
    }

    /// Loads the configured keys.
    ///
    /// - Throws: ``DKIMError`` naming the file that is missing, unreadable or not a key.
    public init(settings: DKIMSettings, from: EmailAddress) throws(DKIMError) {
        var keys: [Key] = []
        if let path = settings.keyFile {
            let pem = try Self.read(path, variable: "PAPERPOST_DKIM_KEY_FILE")
            do {
                let key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
                guard key.keySizeInBits >= 2048 else {
                    throw DKIMError(description: "PAPERPOST_DKIM_KEY_FILE \(path): a \(key.keySizeInBits)-bit RSA key; receivers want 2048 bits or more (`paperpost dkim keygen` writes one)")
                }
                keys.append(.rsa(key))
            } catch let error as DKIMError {
                throw error
            } catch {
                throw DKIMError(description: "PAPERPOST_DKIM_KEY_FILE \(path): not an RSA private key in PEM (\(error)); `paperpost dkim keygen` writes one")
            }
        }
        if let path = settings.ed25519KeyFile {
            let text = try Self.read(path, variable: "PAPERPOST_DKIM_ED25519_KEY_FILE")
            guard let seed = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), seed.count == 32,
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
            else {
                throw DKIMError(description: "PAPERPOST_DKIM_ED25519_KEY_FILE \(path): not an Ed25519 key (its 32-byte seed in base64, as dkimpy and `paperpost dkim keygen --ed25519` write it)")
            }
            keys.append(.ed25519(key))
        }
        self.keys = keys
        self.domain = settings.domain ?? from.domain.lowercased()
        self.selector = settings.selector
    }

    private static func read(_ path: String, variable: String) throws(DKIMError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DKIMError(description: "\(variable) \(path): cannot be read (\((error as NSError).localizedDescription))")
        }
    }

    /// The message with its `DKIM-Signature` headers in front.
    ///
    /// - Throws: ``DKIMError`` when the crypto library refuses to sign; the message must then
    ///   not go out unsigned behind the operator's back.
    public func signed(_ message: [UInt8], at date: Date = Date()) throws(DKIMError) -> [UInt8] {
        guard !keys.isEmpty else { return message }
        let (headers, bodyStart) = Self.headerFields(of: message)
        let bodyHash = Data(Self.relaxedBodyHash(message[bodyStart...])).base64EncodedString()
        let canonicalHeaders = Self.canonicalSignedHeaders(headers)
        var signatures: [UInt8] = []
        for key in keys {
            let tags = [
                "v=1", "a=\(key.algorithm)", "c=relaxed/relaxed", "d=\(domain)", "s=\(selector(of: key))", "t=\(Int(date.timeIntervalSince1970))",
                "h=" + Self.signedHeaders.joined(separator: ":"), "bh=\(bodyHash)", "b=",
            ]
            let unsigned = Self.folded("DKIM-Signature: ", tags)
            // The signature's own header goes in last, with `b=` empty and without its CRLF.
            var input = canonicalHeaders
            input += Self.relaxedHeader(Array(unsigned.utf8)[...]).dropLast(2)
            let signature: Data
            do {
                switch key {
                case .rsa(let rsa):
                    signature = try rsa.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
                case .ed25519(let ed25519):
                    // RFC 8463: Ed25519 signs the SHA-256 hash of the header data.
                    signature = try ed25519.signature(for: Data(SHA256.hash(data: input)))
                }
            } catch {
                throw DKIMError(description: "the \(key.algorithm) signature could not be made (\(error)); check the key in use")
            }
            signatures += unsigned.utf8
            signatures += Self.foldedValue(signature.base64EncodedString()).utf8
            signatures += Self.crlf
        }
        return signatures + message
    }

    /// The canonicalisation and hashing a signature needs, without the signature itself: the
    /// part of signing the bench measures apart from RSA.
    public func hashes(_ message: [UInt8]) -> (body: SHA256.Digest, headers: SHA256.Digest) {
        let (headers, bodyStart) = Self.headerFields(of: message)
        return (Self.relaxedBodyHash(message[bodyStart...]), SHA256.hash(data: Self.canonicalSignedHeaders(headers)))
    }

    // MARK: Canonicalisation (RFC 6376 3.4.2 and 3.4.4)

    /// The header fields (each with its continuation lines, without the final CRLF) and where
    /// the body starts.
    static func headerFields(of message: [UInt8]) -> (fields: [ArraySlice<UInt8>], bodyStart: Int) {
        var fields: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index + 1 < message.count {
            guard message[index] == 13, message[index + 1] == 10 else {
                index += 1
                continue
            }
            if index == start {
                // The empty line: the body follows.
                return (fields, index + 2)
            }
            let next = index + 2
            if next < message.count, message[next] == 32 || message[next] == 9 {
                index = next
                continue
            }
            fields.append(message[start..<index])
            start = next
            index = next
        }
        fields.append(message[start..<message.count])
        return (fields, message.count)
    }

    /// `name:value` lower-cased, unfolded, with whitespace runs made one space and trimmed
    /// around the colon and at the end, then CRLF.
    static func relaxedHeader(_ field: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(field.count + 2)
        guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else { return output }
        for byte in field[..<colon] where byte != 32 && byte != 9 {
            output.append((65...90).contains(byte) ? byte + 32 : byte)
        }
        output.append(UInt8(ascii: ":"))
        var pendingSpace = false
        var started = false
        for byte in field[(colon + 1)...] {
            switch byte {
            case 13, 10:
                continue
            case 32, 9:
                pendingSpace = started
            default:
                if pendingSpace { output.append(32) }
                pendingSpace = false
                started = true
                output.append(byte)
            }
        }
        output += Self.crlf
        return output
    }

    /// The signed headers in `h=` order, each instance taken from the bottom up; a name with no
    /// instance left (the oversigned From) contributes nothing.
    static func canonicalSignedHeaders(_ fields: [ArraySlice<UInt8>]) -> [UInt8] {
        var byName: [[UInt8]: [ArraySlice<UInt8>]] = [:]
        for field in fields {
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = field[..<colon].compactMap { byte -> UInt8? in
                byte == 32 || byte == 9 ? nil : (65...90).contains(byte) ? byte + 32 : byte
            }
            byName[name, default: []].append(field)
        }
        var output: [UInt8] = []
        for name in signedHeaderBytes {
            guard let field = byName[name]?.popLast() else { continue }
            output += relaxedHeader(field)
        }
        return output
    }

    private static let signedHeaderBytes = signedHeaders.map { Array($0.utf8) }

    /// SHA-256 of the relaxed body (RFC 6376 3.4.4): whitespace runs made one space,
    /// whitespace at line ends dropped, empty lines at the end dropped, a final CRLF added to a
    /// non-empty body.
    ///
    /// The canonical form is never built: the hash is fed the body's unchanged stretches as
    /// they are, and one space where a run of blanks shrinks. Most of a message is unchanged
    /// (base64, quoted-printable), and a digest's plain-text part only adds a change at each
    /// wrapped line's indent, so a copy of the body would be spent on copying
    /// (a copy a stretch at a time took a median 107 µs per bench message).
    static func relaxedBodyHash(_ body: ArraySlice<UInt8>) -> SHA256.Digest {
        var hasher = SHA256()
        // Empty lines at the end (blank-only ones included) go: the canonical body is that of
        // everything up to the last byte that is neither a blank nor part of a CRLF, plus CRLF.
        var end = body.endIndex
        while end > body.startIndex {
            let last = body[end - 1]
            if last == 32 || last == 9 {
                end -= 1
            } else if last == 10, end - 1 > body.startIndex, body[end - 2] == 13 {
                end -= 2
            } else {
                break
            }
        }
        guard end > body.startIndex else { return hasher.finalize() }
        // The first byte not yet hashed; everything from it up to `index` is hashed as it is.
        var hashFrom = body.startIndex
        var index = body.startIndex
        while index < end {
            let byte = body[index]
            guard byte == 32 || byte == 9 else {
                index += 1
                continue
            }
            var blanksEnd = index + 1
            while blanksEnd < end, body[blanksEnd] == 32 || body[blanksEnd] == 9 { blanksEnd += 1 }
            // `end` follows a byte that is not blank, so a run of blanks ends inside the body.
            let atLineEnd = body[blanksEnd] == 13 && blanksEnd + 1 < end && body[blanksEnd + 1] == 10
            if byte == 32, blanksEnd == index + 1, !atLineEnd {
                // One space inside a line stays as it is.
                index = blanksEnd
                continue
            }
            // Blanks before a line's end go; any other run becomes one space.
            hasher.update(data: body[hashFrom..<index])
            if !atLineEnd { hasher.update(data: space) }
            index = blanksEnd
            hashFrom = index
        }
        hasher.update(data: body[hashFrom..<end])
        hasher.update(data: crlf)
        return hasher.finalize()
    }

    private static let space: [UInt8] = [32]

    // MARK: Layout

    /// `prefix` and the tags joined by "; ", broken before a tag where a line would pass 78
    /// characters. Breaks only replace the space after a semicolon, so relaxed canonicalisation
    /// reads the header exactly as it was signed.
    static func folded(_ prefix: String, _ tags: [String]) -> String {
        var text = prefix
        var lineLength = prefix.count
        for (index, tag) in tags.enumerated() {
            let piece = index == tags.count - 1 ? tag : tag + ";"
            if index > 0 {
                if lineLength + 1 + piece.count > 78 {
                    text += "\r\n "
                    lineLength = 1
                } else {
                    text += " "
                    lineLength += 1
                }
            }
            text += piece
            lineLength += piece.count
        }
        return text
    }

    /// The signature's base64 in lines of 72; whitespace inside `b=` is ignored by verifiers.
    static func foldedValue(_ base64: String) -> String {
        var pieces: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            pieces.append(rest.prefix(72))
            rest = rest.dropFirst(72)
        }
        return pieces.joined(separator: "\r\n ")
    }

    // MARK: Keys

    /// The TXT record for a public key: `v=DKIM1; k=…; p=…`.
    static func record(algorithm: String, publicKey: Data) -> String {
        "v=DKIM1; k=\(algorithm); p=\(publicKey.base64EncodedString())"
    }

    /// The TXT records to publish for the loaded keys: (DNS name, record).
    public var dnsRecords: [(name: String, record: String)] {
        keys.map { key in
            let name = "\(selector(of: key))._domainkey.\(domain)"
            switch key {
            case .rsa(let rsa): return (name, Self.record(algorithm: "rsa", publicKey: rsa.publicKey.derRepresentation))
            case .ed25519(let ed25519): return (name, Self.record(algorithm: "ed25519", publicKey: ed25519.publicKey.rawRepresentation))
            }
        }
    }
}

/// New DKIM keys for `paperpost dkim keygen`, and the DNS records that publish them.
public enum DKIMKeyGenerator {
    public struct Written: Sendable {
        /// The private key's file (mode 0600).
        public var path: String
        /// The variable that names it.
        public var variable: String
        /// The selector its record is published under.
        public var selector: String
        /// The TXT record for `selector._domainkey.domain`.
        public var record: String
    }

    /// Writes an RSA-2048 key and, with `ed25519`, an Ed25519 key into `directory`, named after
    /// the selector. Existing files are never overwritten: a key in use must be retired on
    /// purpose, after its successor's record is published.
    public static func generate(selector: String, directory: String, ed25519: Bool) throws(DKIMError) -> [Written] {
        let rsaPath = URL(fileURLWithPath: directory).appendingPathComponent("\(selector).rsa.pem").path
        let edPath = URL(fileURLWithPath: directory).appendingPathComponent("\(selector).ed25519").path
        for path in [rsaPath] + (ed25519 ? [edPath] : []) where FileManager.default.fileExists(atPath: path) {
            throw DKIMError(description: "\(path) exists; choose a new --selector (keys are rotated by publishing a new selector), or move the old file away")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DKIMError(description: "cannot create \(directory): \((error as NSError).localizedDescription)")
        }
        let rsa: _RSA.Signing.PrivateKey
        do {
            rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        } catch {
            throw DKIMError(description: "cannot generate an RSA key: \(error)")
        }
        var written = [
            Written(
                path: try write(rsa.pemRepresentation, to: rsaPath), variable: "PAPERPOST_DKIM_KEY_FILE", selector: selector,
                record: DKIMSigner.record(algorithm: "rsa", publicKey: rsa.publicKey.derRepresentation))
        ]
        if ed25519 {
            let key = Curve25519.Signing.PrivateKey()
            written.append(Written(
                path: try write(key.rawRepresentation.base64EncodedString() + "\n", to: edPath), variable: "PAPERPOST_DKIM_ED25519_KEY_FILE",
                selector: DKIMSigner.ed25519Selector(selector),
                record: DKIMSigner.record(algorithm: "ed25519", publicKey: key.publicKey.rawRepresentation)))
        }
        return written
    }

    private static func write(_ text: String, to path: String) throws(DKIMError) -> String {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw DKIMError(description: "cannot write \(path)")
        }
        return path
    }

    /// A TXT record as zone-file strings of at most 255 bytes each (an RSA-2048 record is longer).
    public static func zoneStrings(_ record: String) -> String {
        var pieces: [String] = []
        var rest = Substring(record)
        while !rest.isEmpty {
            pieces.append("\"\(rest.prefix(255))\"")
            rest = rest.dropFirst(255)
        }
        return pieces.joined(separator: " ")
    }
}
