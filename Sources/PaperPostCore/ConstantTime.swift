extension String {
    /// Whether two MACs or tokens are equal, comparing every byte rather than stopping at the
    /// first difference, so that response times say nothing about how much of a guess was right.
    public func isEqualInConstantTime(to other: String) -> Bool {
        let a = Array(utf8)
        let b = Array(other.utf8)
        return a.count == b.count && zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
