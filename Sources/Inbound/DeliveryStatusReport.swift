import Foundation
import PaperPostCore

/// The per-recipient fields of an RFC 3464 `message/delivery-status` part.
enum DeliveryStatusReport {
    static func recipients(_ text: String, humanText: String) -> [BounceRecipient] {
        // Groups are separated by blank lines; an MTA that forgets the blank line still starts
        // each recipient with its own Final-Recipient.
        var groups: [[(name: String, value: String)]] = []
        for block in Self.paragraphs(text) {
            var current: [(name: String, value: String)] = []
            for (name, value) in MIMEEntity.parseHeaders(Array(block.utf8)[...]) {
                if name == "final-recipient", current.contains(where: { $0.name == "final-recipient" }) {
                    groups.append(current)
                    current = []
                }
                current.append((name, value))
            }
            if !current.isEmpty { groups.append(current) }
        }
        // What the human-readable part says about each recipient, read once for all of them.
        let explanations = Dictionary(
            FreeTextBounce.blocks(humanText).map { ($0.address, $0.lines.joined(separator: "\n")) }, uniquingKeysWith: { first, _ in first })
        return groups.compactMap { group in
            recipient(group, explanations: explanations)
        }
    }

    private static func recipient(
        _ group: [(name: String, value: String)], explanations: [String: String]
    ) -> BounceRecipient? {
        func field(_ name: String) -> String? { group.first { $0.name == name }?.value }
        guard let addressField = field("final-recipient") ?? field("original-recipient") ?? field("x-actual-recipient"),
            let address = TextScanning.addresses(in: addressField).first ?? TextScanning.addresses(in: field("original-recipient") ?? "").first
        else { return nil }
        let action = (field("action") ?? "failed").lowercased()
        let diagnostic = Self.strippingType(field("diagnostic-code") ?? "")
        let statusField = field("status").flatMap(TextScanning.status(in:))
        // The Status field is the reporting MTA's summary; a code in the diagnostic is what the
        // receiving server said, and the last one is the innermost cause ("4.4.7 Message
        // expired … <421 4.4.2 Connection timed out>"). A generic one (x.0.0) says less than
        // either.
        var status = statusField
        if let diagnosticStatus = TextScanning.statuses(in: diagnostic).last(where: { !$0.hasSuffix(".0.0") }) {
            if status == nil || status != diagnosticStatus { status = diagnosticStatus }
        } else if status == nil {
            status = TextScanning.status(in: diagnostic)
        }
        let replyCode = TextScanning.replyCode(in: diagnostic) ?? ""
        if ["delivered", "relayed", "expanded"].contains(where: action.hasPrefix) {
            return BounceRecipient(
                address: address, status: status ?? "2.0.0", statusInferred: status == nil, replyCode: replyCode, reason: .delivered,
                hard: false, permanent: false, diagnostic: diagnostic)
        }
        let delayed = action.hasPrefix("delayed")
        // The human-readable part often says more than the fields: the server's own reply when
        // there is no Diagnostic-Code, or the SMTP command it answered.
        let explanation = explanations[address]
        if diagnostic.isEmpty, let explanation {
            let explained = TextScanning.status(in: explanation)
            if status == nil || status?.hasSuffix(".0.0") == true, let explained { status = explained }
        }
        // "Status: 5.4.4 (Illegal host/domain name found)": without a Diagnostic-Code, the
        // comment is the only wording (with one, it is usually the code's textbook meaning).
        let statusComment = field("status").map { String($0.drop { $0 != "(" }) } ?? ""
        let context = diagnostic.isEmpty ? (explanation ?? "") + "\n" + statusComment : diagnostic
        var recipient = FreeTextBounce.recipient(
            address, status: status, replyCode: replyCode.isEmpty ? nil : replyCode, diagnostic: diagnostic.isEmpty ? context : diagnostic,
            context: context, surroundings: explanation ?? "", delayed: delayed)
        // `x-unix;` is a local delivery program's output (procmail, a pipe): the MTA had
        // accepted the address, so "no such user" there is the program's failure, not a verdict
        // on the address.
        if recipient.reason == .userUnknown, field("diagnostic-code")?.lowercased().hasPrefix("x-unix") == true {
            recipient.reason = .mailerError
            recipient.hard = false
            if recipient.statusInferred { recipient.status = FailureReason.mailerError.inferredStatus(permanent: recipient.permanent) }
        }
        return recipient
    }

    /// The text's blank-line-separated blocks.
    static func paragraphs(_ text: String) -> [String] {
        var blocks: [String] = []
        var current = ""
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if !current.isEmpty { blocks.append(current) }
                current = ""
            } else {
                current += line + "\n"
            }
        }
        if !current.isEmpty { blocks.append(current) }
        return blocks
    }

    /// `smtp; 550 5.1.1 …` → `550 5.1.1 …`.
    static func strippingType(_ diagnostic: String) -> String {
        guard let semicolon = diagnostic.firstIndex(of: ";"), diagnostic.distance(from: diagnostic.startIndex, to: semicolon) < 12
        else { return diagnostic }
        return diagnostic[diagnostic.index(after: semicolon)...].trimmingSpaces()
    }
}
