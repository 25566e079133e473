import PaperPostCore

/// The day's words by ``TermHash``, each with its range of postings: open addressing over two
/// flat arrays, so that looking up a reader's word is a multiply-free probe and no retain.
struct TermTable: Sendable {
    /// 0 marks an empty slot; a word whose hash is 0 is stored as 1 (and looked up the same way).
    private let slots: [UInt64]
    private let ranges: [Range<Int>]
    private let mask: Int

    init(_ entries: [(hash: UInt64, range: Range<Int>)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity *= 2 }
        var slots = [UInt64](repeating: 0, count: capacity)
        var ranges = [Range<Int>](repeating: 0..<0, count: capacity)
        let mask = capacity - 1
        for (hash, range) in entries {
            let key = Self.key(hash)
            var slot = Int(truncatingIfNeeded: key) & mask
            while slots[slot] != 0 && slots[slot] != key { slot = (slot + 1) & mask }
            slots[slot] = key
            ranges[slot] = range
        }
        self.slots = slots
        self.ranges = ranges
        self.mask = mask
    }

    subscript(hash: UInt64) -> Range<Int>? {
        let key = Self.key(hash)
        var slot = Int(truncatingIfNeeded: key) & mask
        while true {
            let found = slots[slot]
            if found == key { return ranges[slot] }
            if found == 0 { return nil }
            slot = (slot + 1) & mask
        }
    }

    private static func key(_ hash: UInt64) -> UInt64 { hash == 0 ? 1 : hash }
}
