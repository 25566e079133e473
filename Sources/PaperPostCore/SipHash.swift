/// SipHash-2-4 (Aumasson and Bernstein, 2012): a pseudorandom function keyed with 128 bits and
/// made for short inputs, giving a 64-bit tag.
///
/// It authenticates the feedback links: an email carries eighteen of them and a send makes
/// millions, and HMAC-SHA256 through swift-crypto costs about a microsecond each where this
/// costs tens of nanoseconds. swift-crypto has no short-input MAC (its AES-CMAC, in
/// `_CryptoExtras`, measured 0.6 µs per tag), so the reference algorithm is written out here
/// and checked against the reference implementation's 64 test vectors. Its key is always
/// derived with HMAC-SHA256 from the server secret (see ``LinkToken/SubjectSigner``), never
/// used on its own.
public struct SipHash24: Sendable {
    private let k0: UInt64
    private let k1: UInt64

    /// - Parameter key: 16 bytes; the first 8 are k0 and the next 8 k1, little-endian.
    public init(key: some Collection<UInt8>) {
        precondition(key.count >= 16, "SipHash needs a 128-bit key")
        let bytes = Array(key.prefix(16))
        k0 = Self.littleEndian(bytes.span, 0)
        k1 = Self.littleEndian(bytes.span, 8)
    }

    public func tag(_ message: [UInt8]) -> UInt64 {
        tag(message.span)
    }

    /// The tag of bytes inside a larger buffer (a feedback link's subject inside a body).
    public func tag(_ message: Span<UInt8>) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1

        func round() {
            v0 &+= v1
            v1 = v1.rotatedLeft(13)
            v1 ^= v0
            v0 = v0.rotatedLeft(32)
            v2 &+= v3
            v3 = v3.rotatedLeft(16)
            v3 ^= v2
            v0 &+= v3
            v3 = v3.rotatedLeft(21)
            v3 ^= v0
            v2 &+= v1
            v1 = v1.rotatedLeft(17)
            v1 ^= v2
            v2 = v2.rotatedLeft(32)
        }
        func compress(_ word: UInt64) {
            v3 ^= word
            round()
            round()
            v0 ^= word
        }

        let whole = message.count & ~7
        var offset = 0
        while offset < whole {
            compress(Self.littleEndian(message, offset))
            offset += 8
        }
        // The last word: the remaining bytes, and the length's low byte on top.
        var last = UInt64(truncatingIfNeeded: message.count) << 56
        for (shift, index) in (whole..<message.count).enumerated() {
            last |= UInt64(message[index]) << (UInt64(shift) * 8)
        }
        compress(last)
        v2 ^= 0xff
        round()
        round()
        round()
        round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    private static func littleEndian(_ bytes: Span<UInt8>, _ offset: Int) -> UInt64 {
        var word: UInt64 = 0
        for index in 0..<8 {
            word |= UInt64(bytes[offset + index]) << (UInt64(index) * 8)
        }
        return word
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 {
        self << count | self >> (64 - count)
    }
}
