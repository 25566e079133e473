extension String {
    /// Whether two MACs or tokens are equal, comparing every byte rather than stopping at the
    /// first difference, so that response times say nothing about how much of a guess was right.
    public func isEqualInConstantTime(to other: String) -> Bool {
        Array(utf8).isEqualInConstantTime(to: Array(other.utf8))
    }
}

extension Array where Element == UInt8 {
    /// See `String.isEqualInConstantTime(to:)`.
    public func isEqualInConstantTime(to other: [UInt8]) -> Bool {
        count == other.count && zip(self, other).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
