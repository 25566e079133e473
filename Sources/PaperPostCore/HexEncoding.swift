import Foundation

extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte: digests and secrets as they are stored and shown.
    /// `String(format: "%02x")` per byte went through Foundation's formatter, which made
    /// secrets and keys a fifth of a subscriber import's time.
    public var hexEncoded: String {
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(HexDigits.lower[Int(byte >> 4)])
            text.append(HexDigits.lower[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

private enum HexDigits {
    static let lower = Array("0123456789abcdef".utf8)
}

extension String {
    /// `bytes` random bytes from the system's generator, in hex: secrets, notice Message-IDs
    /// and boundaries. One draw (one system call) serves eight bytes.
    public static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var random: [UInt8] = []
        random.reserveCapacity(bytes + 7)
        while random.count < bytes {
            let draw: UInt64 = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { random.append(UInt8(truncatingIfNeeded: draw >> UInt64(shift))) }
        }
        return random.prefix(bytes).hexEncoded
    }

    /// `count` values of `bytes` random bytes each, in hex, read from the kernel's generator
    /// (`/dev/urandom`) in one read: an import makes a secret for every new subscriber, and the
    /// system generator's call per eight bytes was 6 % of writing one. Where the device
    /// cannot be read, each comes from ``randomHex(bytes:)``.
    public static func randomHex(count: Int, bytes: Int) -> [String] {
        guard count > 0 else { return [] }
        let device = FileHandle(forReadingAtPath: "/dev/urandom")
        defer { try? device?.close() }
        guard let data = try? device?.read(upToCount: count * bytes), data.count == count * bytes else {
            return (0..<count).map { _ in randomHex(bytes: bytes) }
        }
        return (0..<count).map { index in data[(data.startIndex + index * bytes)..<(data.startIndex + (index + 1) * bytes)].hexEncoded }
    }
}
