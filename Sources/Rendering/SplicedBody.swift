import PaperPostCore

/// A MIME body that is the same for every recipient except in a few lines, encoded once.
///
/// The text is cut into regions of whole lines: fixed regions, encoded when the edition is
/// prepared, and personal regions (lines holding a ``Slot``), encoded per recipient. Encoding
/// regions separately gives the same bytes as encoding the whole body because quoted-printable
/// regions end at hard line breaks and base64 regions (all but the last) are padded with
/// trailing spaces to whole 57-byte lines. Per message, only a few hundred bytes are encoded;
/// the rest is copied.
///
/// A class: a message is written from some twenty bodies, and copying one out of a layout
/// is then one reference rather than each of its arrays.
final class SplicedBody: Sendable {
    /// A run of lines: encoded bytes, or lines holding slots (fragments) encoded per recipient;
    /// `rewrap` when they hold a line of running text that is wrapped only once the reader's
    /// words are in it (the plain-text part's "why" lines).
    ///
    /// Regions and fragments are ranges into the body's arrays rather than arrays of their
    /// own: a message is written from some twenty bodies of scattered pieces, and copying
    /// references out of each region (a retain and a cache miss each) was a tenth of composing.
    enum Region: Sendable {
        case fixed(Range<Int>)
        case personal(fragments: Range<Int>, rewrap: Bool)
    }

    enum Fragment: Sendable {
        /// Raw text in ``SplicedBody/bytes``.
        case text(Range<Int>)
        /// The recipient's text for ``SplicedBody/slots``[index].
        case slot(Int)
        /// A feedback link: its subject's bytes and their base64url form in
        /// ``SplicedBody/bytes``, prepared once for every reader.
        case feedback(subject: Range<Int>, encoded: Range<Int>)
    }

    let encoding: TransferEncoding
    /// The fixed regions' encoded bytes and the personal regions' raw text, back to back.
    let bytes: [UInt8]
    let regions: [Region]
    let fragments: [Fragment]
    let slots: [Slot]
    /// Whether this body ends the part: otherwise its last region is padded too (base64), so
    /// that another piece can follow it.
    let isFinal: Bool

    /// - Parameters:
    ///   - text: the body, with ``SlotMarker`` markers where recipients differ.
    ///   - encoding: `nil` picks the shorter one for the text.
    ///   - isFinal: whether the part ends with this text (see ``isFinal``).
    ///   - wrapsSlotLines: wrap the lines holding a "why" slot at 78 columns once filled (the
    ///     plain-text part, whose other lines were wrapped when rendered).
    convenience init(_ text: String, encoding: TransferEncoding? = nil, isFinal: Bool = true, wrapsSlotLines: Bool = false) {
        let lines = Self.crlfLines(text)
        let encoding = encoding ?? TransferEncoding.shorter(for: Array(text.utf8))
        var builder = Builder()
        var fixed: [UInt8] = []
        var personal: [ParsedFragment] = []
        func flushFixed(isLast: Bool) {
            guard !fixed.isEmpty else { return }
            var encoded: [UInt8] = []
            Self.encode(&fixed, encoding, padded: !(isLast && isFinal), into: &encoded)
            builder.appendFixed(encoded)
            fixed = []
        }
        func flushPersonal() {
            guard !personal.isEmpty else { return }
            let rewrap = wrapsSlotLines && personal.contains { if case .slot(.why) = $0 { true } else { false } }
            builder.appendPersonal(personal, rewrap: rewrap)
            personal = []
        }
        for line in lines {
            if Self.holdsSlot(line) {
                flushFixed(isLast: false)
                personal += Self.fragments(String(decoding: line, as: UTF8.self))
            } else {
                flushPersonal()
                fixed += line
            }
        }
        flushPersonal()
        flushFixed(isLast: true)
        self.init(builder, encoding: encoding, isFinal: isFinal)
    }

    /// Bodies one after the other as one, with adjacent fixed regions joined: a message made
    /// of pieces then copies a few large regions rather than many small ones. The bodies must
    /// share an encoding, and all but the last must not be final.
    convenience init(joining bodies: [SplicedBody]) {
        var builder = Builder()
        for body in bodies {
            for region in body.regions {
                switch region {
                case .fixed(let range):
                    builder.appendFixed(body.bytes[range])
                case .personal(let range, let rewrap):
                    builder.appendPersonal(body.fragments[range].map { fragment in
                        switch fragment {
                        case .text(let text): .text(body.bytes[text])
                        case .slot(let index): .slot(body.slots[index])
                        case .feedback(let subject, let encoded): .feedback(subject: body.bytes[subject], encoded: body.bytes[encoded])
                        }
                    }, rewrap: rewrap)
                }
            }
        }
        self.init(builder, encoding: bodies.first?.encoding ?? .quotedPrintable, isFinal: bodies.last?.isFinal ?? true)
    }

    private init(_ builder: Builder, encoding: TransferEncoding, isFinal: Bool) {
        self.encoding = encoding
        self.isFinal = isFinal
        bytes = builder.bytes
        regions = builder.regions
        fragments = builder.fragments
        slots = builder.slots
    }

    /// A personal line's parts as they are parsed, before they are laid into the body's arrays.
    enum ParsedFragment {
        case text(ArraySlice<UInt8>)
        case slot(Slot)
        case feedback(subject: ArraySlice<UInt8>, encoded: ArraySlice<UInt8>)
    }

    /// Lays regions into one body's arrays, joining adjacent fixed regions.
    private struct Builder {
        var bytes: [UInt8] = []
        var regions: [Region] = []
        var fragments: [Fragment] = []
        var slots: [Slot] = []

        mutating func appendFixed(_ encoded: some Collection<UInt8>) {
            let start = bytes.count
            bytes += encoded
            if case .fixed(let before)? = regions.last, before.upperBound == start {
                regions[regions.count - 1] = .fixed(before.lowerBound..<bytes.count)
            } else {
                regions.append(.fixed(start..<bytes.count))
            }
        }

        mutating func appendPersonal(_ parsed: [ParsedFragment], rewrap: Bool) {
            let first = fragments.count
            for fragment in parsed {
                switch fragment {
                case .text(let text):
                    let start = bytes.count
                    bytes += text
                    fragments.append(.text(start..<bytes.count))
                case .slot(let slot):
                    slots.append(slot)
                    fragments.append(.slot(slots.count - 1))
                case .feedback(let subject, let encoded):
                    let start = bytes.count
                    bytes += subject
                    bytes += encoded
                    fragments.append(.feedback(subject: start..<start + subject.count, encoded: start + subject.count..<bytes.count))
                }
            }
            regions.append(.personal(fragments: first..<fragments.count, rewrap: rewrap))
        }
    }

    /// Appends the encoded body for one recipient, with their text for each slot.
    func write(into output: inout [UInt8], slots readerSlots: inout ReaderSlots, html: Bool) {
        let bytes = bytes
        for index in regions.indices {
            switch regions[index] {
            case .fixed(let range):
                output += bytes[range]
            case .personal(let range, let rewrap):
                var raw = readerSlots.takeScratch()
                for fragment in fragments[range] {
                    switch fragment {
                    case .text(let text): raw += bytes[text]
                    case .slot(let slot): readerSlots.write(slots[slot], html: html, into: &raw)
                    case .feedback(let subject, let encoded):
                        readerSlots.writeFeedback(
                            subject: bytes.span.extracting(subject), encoded: bytes.span.extracting(encoded), html: html, into: &raw)
                    }
                }
                // No character is wider than its UTF-8 bytes, so a short line needs no wrapping.
                if rewrap && raw.count > 80 {
                    let wrapped = String(decoding: raw, as: UTF8.self).wrapped(toColumns: 78)
                    raw = wrapped.utf8Lines().map { Array($0.utf8) }.joined(separator: [13, 10]).map { $0 }
                }
                Self.encode(&raw, encoding, padded: index < regions.count - 1 || !isFinal, into: &output)
                readerSlots.returnScratch(raw)
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
    /// the text did not end in a line break; in UTF-8, since every piece of every edition is cut
    /// into lines.
    static func crlfLines(_ text: String) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            if byte == 10 {
                current += [13, 10]
                lines.append(current)
                current.removeAll(keepingCapacity: true)
            } else if byte != 13 {
                current.append(byte)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    private static let openMarker = Array(String(SlotMarker.open).utf8)

    /// Whether a line holds a slot marker (U+E000, `EE 80 80` in UTF-8; no other character's
    /// encoding contains that sequence).
    private static func holdsSlot(_ line: [UInt8]) -> Bool {
        line.firstRange(ofBytes: openMarker) != nil
    }

    private static func fragments(_ line: String) -> [ParsedFragment] {
        var fragments: [ParsedFragment] = []
        var text = ""
        var slotName: String?
        for scalar in line.unicodeScalars {
            if scalar == SlotMarker.open {
                if !text.isEmpty { fragments.append(.text(Array(text.utf8)[...])) }
                text = ""
                slotName = ""
            } else if scalar == SlotMarker.close, let name = slotName {
                switch Slot(name: name) {
                case .feedback(let paper, let vote):
                    let subject = LinkToken.Subject(Vote.subject(paper: paper, vote))
                    fragments.append(.feedback(subject: subject.bytes[...], encoded: subject.encoded[...]))
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
        if !text.isEmpty { fragments.append(.text(Array(text.utf8)[...])) }
        return fragments
    }
}
