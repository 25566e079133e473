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
