extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte: digests and secrets as they are stored and shown.
    /// `String(format: "%02x")` per byte went through Foundation's formatter, which made
    /// secrets and keys a fifth of a subscriber import's time.
    public var hexEncoded: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension String {
    /// `bytes` random bytes from the system's generator, in hex: secrets, notice Message-IDs
    /// and boundaries. One draw (one system call) serves eight bytes.
    public static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<(bytes + 7) / 8).flatMap { _ in
            let draw: UInt64 = generator.next()
            return (0..<8).map { UInt8(truncatingIfNeeded: draw >> (UInt64($0) * 8)) }
        }.prefix(bytes).hexEncoded
    }
}
