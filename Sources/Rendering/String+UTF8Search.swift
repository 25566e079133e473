extension StringProtocol {
    /// Where `needle` first occurs, compared byte by byte in UTF-8.
    ///
    /// Piece rendering searches each rendered edition, line by line, for slot placeholders and
    /// markers: the generic `firstRange(of:)` sets up a searcher on every call and Foundation's
    /// `contains` goes through `NSString`, which together were a fifth of it. A match of whole
    /// UTF-8 sequences starts and ends on scalar boundaries, so the range slices the string.
    func firstUTF8Range(of needle: String) -> Range<Index>? {
        let bytes = utf8
        let pattern = needle.utf8
        guard let first = pattern.first else { return startIndex..<startIndex }
        var from = bytes.startIndex
        while let found = bytes[from...].firstIndex(of: first) {
            var probe = found
            var matched = true
            for byte in pattern {
                guard probe < bytes.endIndex, bytes[probe] == byte else {
                    matched = false
                    break
                }
                probe = bytes.index(after: probe)
            }
            if matched { return found..<probe }
            from = bytes.index(after: found)
        }
        return nil
    }

    /// Whether `needle` occurs (see ``firstUTF8Range(of:)``).
    func containsUTF8(_ needle: String) -> Bool {
        firstUTF8Range(of: needle) != nil
    }
}
