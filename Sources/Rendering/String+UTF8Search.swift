extension Collection<UInt8> {
    /// Where `pattern` first occurs, compared byte by byte.
    ///
    /// Piece rendering searches each rendered edition, line by line, for slot placeholders and
    /// markers: the generic `firstRange(of:)` sets up a searcher on every call and Foundation's
    /// `contains` goes through `NSString`, which together were a fifth of it.
    func firstRange(ofBytes pattern: some Collection<UInt8>) -> Range<Index>? {
        guard let first = pattern.first else { return startIndex..<startIndex }
        var from = startIndex
        while let found = self[from...].firstIndex(of: first) {
            var probe = found
            var matched = true
            for byte in pattern {
                guard probe < endIndex, self[probe] == byte else {
                    matched = false
                    break
                }
                probe = index(after: probe)
            }
            if matched { return found..<probe }
            from = index(after: found)
        }
        return nil
    }
}

extension StringProtocol {
    /// Where `needle` first occurs, compared by UTF-8 bytes (see ``Swift/Collection/firstRange(ofBytes:)``).
    /// A match of whole UTF-8 sequences starts and ends on scalar boundaries, so the range
    /// slices the string.
    func firstUTF8Range(of needle: String) -> Range<Index>? {
        utf8.firstRange(ofBytes: needle.utf8)
    }

    /// Whether `needle` occurs (see ``firstUTF8Range(of:)``).
    func containsUTF8(_ needle: String) -> Bool {
        firstUTF8Range(of: needle) != nil
    }
}

extension StringProtocol where SubSequence == Substring {
    /// The text cut at every `"\n"`, the empty lines kept (as `split(separator: "\n",
    /// omittingEmptySubsequences: false)` gives them for text without `"\r\n"`).
    ///
    /// Piece rendering cuts each rendered edition into lines several times; splitting by
    /// `Character` runs grapheme breaking over every byte, and was most of the cutting's time.
    /// cmark writes `"\n"` line ends only, which is what this is for: a `"\r\n"` is cut after
    /// its `"\r"`, where the `Character` split would not cut it at all.
    func utf8Lines() -> [Substring] {
        utf8.split(separator: 10, omittingEmptySubsequences: false).map { self[$0.startIndex..<$0.endIndex] }
    }
}
