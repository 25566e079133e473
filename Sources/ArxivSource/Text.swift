extension StringProtocol {
    /// Collapses every run of XML white space (space, tab, CR, LF) into one space and trims the ends.
    ///
    /// arXiv hard-wraps titles and abstracts at submission time, so line breaks carry no meaning; other
    /// characters, LaTeX included, are the author's text and stay exactly as written. Works on UTF-8 bytes
    /// because a 2,000-entry page has megabytes of abstracts.
    func normalizingWhitespace() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var pendingSpace = false
        for byte in utf8 {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D:
                pendingSpace = !bytes.isEmpty
            default:
                if pendingSpace {
                    bytes.append(0x20)
                    pendingSpace = false
                }
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Normalised text, or nil when nothing is left: arXiv sends some optional fields empty.
    func nonBlankNormalized() -> String? {
        let text = normalizingWhitespace()
        return text.isEmpty ? nil : text
    }
}

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) })
        else { return self[endIndex...] }
        return self[first...last]
    }
}
