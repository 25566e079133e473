import PaperPostCore

/// A MIME body that is the same for every recipient except in a few lines, encoded once.
///
/// The text is cut into regions of whole lines: fixed regions, encoded when the edition is
/// prepared, and personal regions (lines holding a ``Slot``), encoded per recipient. Encoding
/// regions separately gives the same bytes as encoding the whole body because quoted-printable
/// regions end at hard line breaks and base64 regions (all but the last) are padded with
/// trailing spaces to whole 57-byte lines. Per message, only a few hundred bytes are encoded;
/// the rest is copied.
struct SplicedBody: Sendable {
    enum Region: Sendable {
        case fixed([UInt8])
        /// Lines holding slots; `rewrap` when they hold a line of running text that is wrapped
        /// only once the reader's words are in it (the plain-text part's "why" lines).
        case personal([Fragment], rewrap: Bool)
    }

    enum Fragment: Sendable {
        case text([UInt8])
        case slot(Slot)
        /// A feedback link, its subject prepared once for every reader.
        case feedback(LinkToken.Subject)
    }

    let encoding: TransferEncoding
    let regions: [Region]
    /// Whether this body ends the part: otherwise its last region is padded too (base64), so
    /// that another piece can follow it.
    let isFinal: Bool

    /// - Parameters:
    ///   - text: the body, with ``SlotMarker`` markers where recipients differ.
    ///   - encoding: `nil` picks the shorter one for the text.
    ///   - isFinal: whether the part ends with this text (see ``isFinal``).
    ///   - wrapsSlotLines: wrap the lines holding a "why" slot at 78 columns once filled (the
    ///     plain-text part, whose other lines were wrapped when rendered).
    init(_ text: String, encoding: TransferEncoding? = nil, isFinal: Bool = true, wrapsSlotLines: Bool = false) {
        let lines = Self.crlfLines(text)
        let encoding = encoding ?? TransferEncoding.shorter(for: Array(text.utf8))
        self.encoding = encoding
        self.isFinal = isFinal
        var regions: [Region] = []
        var fixed: [UInt8] = []
        var personal: [Fragment] = []
        func flushFixed(isLast: Bool) {
            guard !fixed.isEmpty else { return }
            var encoded: [UInt8] = []
            Self.encode(&fixed, encoding, padded: !(isLast && isFinal), into: &encoded)
            regions.append(.fixed(encoded))
            fixed = []
        }
        func flushPersonal() {
            guard !personal.isEmpty else { return }
            let rewrap = wrapsSlotLines && personal.contains { if case .slot(.why) = $0 { true } else { false } }
            regions.append(.personal(personal, rewrap: rewrap))
            personal = []
        }
        for line in lines {
            if line.unicodeScalars.contains(SlotMarker.open) {
                flushFixed(isLast: false)
                personal += Self.fragments(line)
            } else {
                flushPersonal()
                fixed += Array(line.utf8)
            }
        }
        flushPersonal()
        flushFixed(isLast: true)
        self.regions = regions
    }

    /// Bodies one after the other as one, with adjacent fixed regions joined: a message made
    /// of pieces then copies a few large regions rather than many small ones. The bodies must
    /// share an encoding, and all but the last must not be final.
    init(joining bodies: [SplicedBody]) {
        var regions: [Region] = []
        for region in bodies.flatMap(\.regions) {
            if case .fixed(let bytes) = region, case .fixed(let before)? = regions.last {
                regions[regions.count - 1] = .fixed(before + bytes)
            } else {
                regions.append(region)
            }
        }
        self.regions = regions
        self.encoding = bodies.first?.encoding ?? .quotedPrintable
        self.isFinal = bodies.last?.isFinal ?? true
    }

    /// Appends the encoded body for one recipient, with their text for each slot.
    func write(into output: inout [UInt8], slots: inout ReaderSlots, html: Bool) {
        for (index, region) in regions.enumerated() {
            switch region {
            case .fixed(let encoded):
                output += encoded
            case .personal(let fragments, let rewrap):
                var raw = slots.takeScratch()
                for fragment in fragments {
                    switch fragment {
                    case .text(let text): raw += text
                    case .slot(let slot): slots.write(slot, html: html, into: &raw)
                    case .feedback(let subject): slots.writeFeedback(subject, html: html, into: &raw)
                    }
                }
                // No character is wider than its UTF-8 bytes, so a short line needs no wrapping.
                if rewrap && raw.count > 80 {
                    let wrapped = String(decoding: raw, as: UTF8.self).wrapped(toColumns: 78)
                    raw = wrapped.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.utf8) }.joined(separator: [13, 10]).map { $0 }
                }
                Self.encode(&raw, encoding, padded: index < regions.count - 1 || !isFinal, into: &output)
                slots.returnScratch(raw)
            }
        }
    }

    private static func encode(_ raw: inout [UInt8], _ encoding: TransferEncoding, padded: Bool, into output: inout [UInt8]) {
        switch encoding {
        case .quotedPrintable:
            MIMEEncoding.quotedPrintable(raw, into: &output)
        case .base64:
            let remainder = raw.count % MIMEEncoding.base64LineInput
            if padded && remainder != 0 {
                // The spaces go before the final line break, where they are trailing spaces.
                let end = raw.count >= 2 && raw[raw.count - 2] == 13 ? raw.count - 2 : raw.count
                raw.insert(contentsOf: repeatElement(32, count: MIMEEncoding.base64LineInput - remainder), at: end)
            }
            MIMEEncoding.base64(raw, into: &output)
        }
    }

    /// Lines with CRLF endings (the canonical form of text in MIME), the last without one if
    /// the text did not end in a line break.
    static func crlfLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                current += "\r\n"
                lines.append(current)
                current = ""
            } else if scalar != "\r" {
                current.unicodeScalars.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    private static func fragments(_ line: String) -> [Fragment] {
        var fragments: [Fragment] = []
        var text = ""
        var slotName: String?
        for scalar in line.unicodeScalars {
            if scalar == SlotMarker.open {
                if !text.isEmpty { fragments.append(.text(Array(text.utf8))) }
                text = ""
                slotName = ""
            } else if scalar == SlotMarker.close, let name = slotName {
                switch Slot(name: name) {
                case .feedback(let paper, let vote): fragments.append(.feedback(LinkToken.Subject(Vote.subject(paper: paper, vote))))
                case let slot?: fragments.append(.slot(slot))
                case nil: break
                }
                slotName = nil
            } else if slotName != nil {
                slotName!.unicodeScalars.append(scalar)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        if !text.isEmpty { fragments.append(.text(Array(text.utf8))) }
        return fragments
    }
}
