import Foundation
import PaperPostCore

/// Bounces written as prose (qmail, Exim, Exchange, the providers): each failed recipient's
/// address on a line of its own (or leading one), followed by the lines that explain it.
enum FreeTextBounce {
    static func recipients(_ text: String) -> [BounceRecipient] {
        let blocks = blocks(text)
        return blocks.map { block in
            let ownText = block.lines.joined(separator: "\n")
            // A block with no code or known wording (Gmail puts the server's reply three
            // paragraphs below the address) is read with the whole report around it.
            let hasCode = TextScanning.status(in: ownText) != nil || TextScanning.replyCode(in: ownText) != nil
            let context = hasCode || blocks.count > 1 ? ownText : text
            return recipient(block.address, diagnostic: diagnosticLine(context) ?? ownText, context: context)
        }
    }

    /// Each recipient a prose report names on a line of its own, with the lines about it.
    static func blocks(_ text: String) -> [(address: String, lines: [String])] {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        var blocks: [(address: String, lines: [String])] = []
        // Sendmail's one-line summaries ("554 <a@b>... Remote protocol error") are complete;
        // the transcript lines after one belong to whatever comes next.
        // A report that lists the recipients twice (Mail.ru: Russian, then English) goes back
        // to the earlier block.
        var closed = false
        var current: Int?
        for line in lines {
            if let address = recipientLine(line) {
                if let existing = blocks.firstIndex(where: { $0.address == address }) {
                    current = existing
                    blocks[existing].lines.append(line)
                } else {
                    blocks.append((address, [line]))
                    current = blocks.count - 1
                }
                closed = isSummaryLine(line, address: address)
            } else if let current, !closed {
                blocks[current].lines.append(line)
            }
        }
        return blocks
    }

    static func recipient(
        _ address: String, status: String? = nil, replyCode: String? = nil, diagnostic: String, context: String,
        surroundings: String = "", delayed: Bool = false
    ) -> BounceRecipient {
        let status = status ?? TextScanning.status(in: context)
        let replyCode = replyCode ?? diagnosticLine(context).flatMap(TextScanning.replyCode(in:)) ?? ""
        let folded = FoldedText(context)
        let permanent: Bool =
            if delayed { false }
            else if let first = status?.first ?? replyCode.first { first == "5" }
            else { !Self.temporaryPhrases.contains(where: folded.contains) }
        var reason = ReasonMatcher.reason(status: status ?? "", text: context) ?? (delayed ? .expired : .undefined)
        // "User unknown" in answer to DATA: the server took the address at RCPT TO, so what
        // refused the message was a filter, not a missing mailbox.
        if reason == .userUnknown {
            switch answeredCommand(in: context) ?? answeredCommand(in: surroundings) {
            case "DATA": reason = .filtered
            // A transcript's DATA counts unless the server's own code says the address is bad.
            case "transcript DATA" where !(status ?? "").dropFirst().hasPrefix(".1."): reason = .filtered
            default: break
            }
        }
        // A Google group that refuses a post says so in the poster's language: the group is
        // there, it does not take mail from this sender.
        if reason == .undefined, address.hasSuffix("@googlegroups.com") { reason = .rejected }
        // A domain that "does not exist" for now is a DNS failure, not a verdict on the address.
        if reason == .hostUnknown, !permanent { reason = .networkError }
        let inferred = reason.inferredStatus(permanent: permanent)
        return BounceRecipient(
            address: address,
            status: status ?? inferred,
            statusInferred: status == nil,
            replyCode: replyCode,
            reason: reason,
            hard: reason.isHard(permanent: permanent),
            permanent: permanent,
            diagnostic: clean(diagnostic)
        )
    }

    static let temporaryPhrases: [Phrase] = ["temporar", "delayed", "will be retried", "still trying"]

    /// The SMTP command the failure answered, as the MTAs word it: Postfix's "(in reply to RCPT
    /// TO command)", Exim's "after RCPT TO:", DragonFly's "did not like our RCPT TO:", or
    /// (prefixed "transcript") the last `>>> COMMAND` before the first `<<<` refusal in a
    /// Sendmail transcript. The transcript is weaker evidence: with pipelining, a refused
    /// RCPT TO is shown after `>>> DATA`.
    static func answeredCommand(in text: String) -> String? {
        // Phrases wrap across lines ("in reply to end of\n    DATA command").
        let folded = FoldedText(text.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        for (phrase, command) in commandPhrases where folded.contains(phrase) { return command }
        var last: String?
        for line in text.lowercased().split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingSpaces()
            if trimmed.hasPrefix(">>>") {
                last = String(trimmed.dropFirst(3).trimmingSpaces().prefix { $0.isLetter }).uppercased()
            } else if trimmed.hasPrefix("<<<"), let first = trimmed.dropFirst(3).trimmingSpaces().first,
                first == "4" || first == "5"
            {
                return last.map { "transcript " + $0 }
            }
        }
        return nil
    }

    static let commandPhrases: [(Phrase, String)] = [
        ("in reply to end of data", "DATA"), ("in reply to data", "DATA"), ("after end of data", "DATA"), ("final data", "DATA"),
        ("after data", "DATA"), ("in reply to rcpt to", "RCPT"), ("after rcpt to", "RCPT"), ("our rcpt to", "RCPT"),
        ("in reply to mail from", "MAIL"), ("after mail from", "MAIL"),
        ("smtp command data", "DATA"),
    ]

    /// A line that introduces a failed recipient: the address with little else on it
    /// (`<a@b>:`, `  a@b`, `a@b on <date>`, `Recipient: a@b`, `a@b [User unknown]`).
    static func recipientLine(_ line: String) -> String? {
        guard line.utf8.contains(0x40), line.utf8.count < 400 else { return nil }
        let trimmed = line.trimmingSpaces()
        let addresses = TextScanning.addresses(in: trimmed)
        guard addresses.count == 1, let address = addresses.first else { return nil }
        let lowered = trimmed.lowercased()
        // Header lines quoted from the original, and lines naming the sender, are not recipients.
        for prefix in ["from:", "return-path:", "sender:", "reply-to:", "message-id:", "received:", "envelope-from", "x-", "by ", "for ", "(envelope"]
        where lowered.hasPrefix(prefix) {
            return nil
        }
        // What is left besides the address and the labels and punctuation around it.
        let words = lowered.replacing(address, with: " ")
            .split { Self.noiseCharacters.contains($0) }
            .filter { !Self.noiseWords.contains(String($0)) }
        // "a@b on Thu, 29 Apr 2010 …" (Exchange) and "a@b [User unknown]" keep a few words.
        if words.isEmpty { return address }
        // "<a@b>: host … said: 550 …" (Postfix) and "a@b: 550 5.1.1 …" (OpenSMTPD).
        if lowered.hasPrefix("<" + address + ">:") || lowered.hasPrefix(address + ":") { return address }
        if isSummaryLine(trimmed, address: address) { return address }
        if words.first == "on", words.count <= 8 { return address }
        if lowered.hasPrefix("<" + address + ">") || lowered.hasPrefix(address) { return words.count <= 6 ? address : nil }
        return nil
    }

    static let noiseCharacters: Set<Character> = [" ", "\t", "<", ">", ":", "\"", "'", "(", ")", "[", "]", ",", ".", "*", "-", ";"]
    static let noiseWords: Set<String> = ["recipient", "address", "rcpt", "to", "original", "failed", "rfc822", "mailto", "final"]

    /// Sendmail's summary lines: "550 <a@b>... User unknown".
    static func isSummaryLine(_ line: String, address: String) -> Bool {
        let trimmed = line.trimmingSpaces().lowercased()
        guard let code = TextScanning.replyCode(in: trimmed) else { return false }
        return trimmed.hasPrefix(code + " <" + address + ">...")
    }

    /// The line most likely to be the receiving server's own words: the first with a status
    /// code, else the first with a reply code.
    static func diagnosticLine(_ text: String) -> String? {
        let lines = text.split(whereSeparator: \.isNewline)
        if let line = lines.first(where: { TextScanning.status(in: $0) != nil }) { return String(line) }
        if let line = lines.first(where: { TextScanning.replyCode(in: $0) != nil }) { return String(line) }
        return nil
    }

    static func clean(_ text: String) -> String {
        let collapsed = text.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            .joined(separator: " ")
        return collapsed.count > 400 ? String(collapsed.prefix(400)) + "…" : collapsed
    }

    /// Where the copy of the returned message starts in a prose bounce, if it is marked.
    static func originalStart(_ text: String) -> String.Index? {
        let folded = FoldedText(text)
        guard let first = originalMarkers.compactMap(folded.offset(of:)).min() else { return nil }
        // The copy starts on the line after the marker's.
        let bytes = folded.bytes
        var end = first
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        let offset = min(end + 1, bytes.count)
        let utf8 = text.utf8
        return utf8.index(utf8.startIndex, offsetBy: offset)
    }

    static let originalMarkers: [Phrase] = [
        "below this line is a copy of the message", "this is a copy of the message", "----- original message", "original message follows",
        "message header follows", "header of the original message", "returned mail follows", "unsent message follows",
        "original message headers", "-----original message-----", "the following is the original message", "message headers follow",
        "headers of the original message", "original message ---", "copy of the original message", "undelivered message follows",
        "returned message follows", "text of the original message", "original message header", "--- original message",
        "copy of the message", "returned message --", "returned message ---",
    ]
}
