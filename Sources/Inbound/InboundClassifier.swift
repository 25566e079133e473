import Foundation
import PaperPostCore

/// Decides what an inbound message is: a complaint (ARF, RFC 5965), a delivery status
/// notification (RFC 3464), a provider's JSON notification, an MTA's own bounce wording, an
/// auto-reply (RFC 3834), an unsubscribe request, or something a person should read.
///
/// It is written for the formats, not for one corpus: the standard reports are read field by
/// field, and the free-text bounces are read as "a recipient line, then the lines that explain
/// it", which is how Postfix, Exim, qmail, Sendmail, Exchange and the providers all write them.
public struct InboundClassifier: Sendable {
    /// The `mailto:` unsubscribe address, when there is one: mail to it is a request to leave.
    public var unsubscribeAddress: String?

    public init(unsubscribeAddress: String? = nil) {
        self.unsubscribeAddress = unsubscribeAddress?.lowercased()
    }

    public func classify(_ bytes: some Collection<UInt8>) -> InboundReport {
        classify(MIMEEntity(bytes: bytes))
    }

    public func classify(_ message: MIMEEntity) -> InboundReport {
        var report = InboundReport(
            kind: .other, recipients: [], feedbackType: nil, originalMessageID: nil,
            envelopeRecipients: Self.envelopeRecipients(of: message), from: message.header("from"),
            subject: message.header("subject"), unsubscribeToken: nil, note: nil
        )
        let entities = message.allEntities
        let original = Self.originalMessage(in: message)
        report.originalMessageID = original?.header("message-id")?.trimmingSpaces()

        if let feedback = entities.first(where: { $0.contentType.full == "message/feedback-report" }) {
            return complaint(report, feedback: Self.fields(feedback.text), original: original)
        }
        if message.header("x-hmxmroriginalrecipient") != nil || original?.header("x-hmxmroriginalrecipient") != nil,
            Self.isComplaintSubject(report.subject)
        {
            // Microsoft's JMRP reports: the complained-of message attached, no feedback part.
            return complaint(report, feedback: [:], original: original)
        }
        if let status = entities.first(where: { ["message/delivery-status", "message/global-delivery-status"].contains($0.contentType.full) }) {
            let recipients = DeliveryStatusReport.recipients(status.text, humanText: Self.reportText(of: message, original: original))
            if !recipients.isEmpty {
                report.recipients = recipients.filter { $0.reason != .delivered }
                report.kind = report.recipients.isEmpty ? .delivered : .bounce
                if report.kind == .delivered { report.recipients = recipients }
                return report
            }
        }
        if let notification = ProviderNotification.parse(message) {
            report.kind = notification.kind
            report.recipients = notification.recipients
            report.feedbackType = notification.feedbackType
            return report
        }
        let looksLikeBounce = Self.looksLikeBounce(message)
        if Self.isAutoReply(message), !Self.saysItIsABounce(message) {
            report.kind = .autoReply
            return report
        }
        if let unsubscribe = unsubscribeRequest(message) {
            report.kind = .unsubscribe
            report.unsubscribeToken = unsubscribe
            return report
        }
        if looksLikeBounce {
            let text = Self.reportText(of: message, original: original)
            var recipients = FreeTextBounce.recipients(text)
            // Exim and Google name the failed recipients in a header: believe it over the prose.
            let failed = message.headers("x-failed-recipients").flatMap(TextScanning.addresses(in:))
            if !failed.isEmpty, Set(recipients.map(\.address)) != Set(failed) {
                recipients = failed.map { address in
                    recipients.first { $0.address == address }
                        ?? FreeTextBounce.recipient(address, diagnostic: FreeTextBounce.diagnosticLine(text) ?? text, context: text)
                }
            }
            if recipients.isEmpty {
                // No recipient on a line of its own: the first address the report mentions that
                // is not the sender's, else the returned message's To.
                let senders = Set(
                    [message.header("from"), message.header("return-path"), original?.header("from"), original?.header("return-path")]
                        .compactMap { $0 }.flatMap(TextScanning.addresses(in:)))
                let mentioned = TextScanning.addresses(in: text).first { !senders.contains($0) }
                if let address = mentioned ?? original?.header("to").map(TextScanning.addresses(in:))?.first {
                    recipients = [FreeTextBounce.recipient(address, diagnostic: FreeTextBounce.diagnosticLine(text) ?? text, context: text)]
                }
            }
            if !recipients.isEmpty {
                report.kind = .bounce
                report.recipients = recipients
                return report
            }
            report.note = "looks like a bounce, but names no recipient"
            return report
        }
        if Self.isAutoReply(message) {
            report.kind = .autoReply
            return report
        }
        report.note = "not a bounce, complaint, auto-reply or unsubscribe request"
        return report
    }

    // MARK: - Complaints

    private func complaint(_ report: InboundReport, feedback: [String: String], original: MIMEEntity?) -> InboundReport {
        var report = report
        report.kind = .complaint
        report.feedbackType = feedback["feedback-type"]?.lowercased() ?? "abuse"
        var addresses: [String] = []
        for field in ["original-rcpt-to", "removal-recipient"] {
            if let value = feedback[field] { addresses += TextScanning.addresses(in: value) }
        }
        if addresses.isEmpty, let value = original?.header("x-hmxmroriginalrecipient") { addresses = TextScanning.addresses(in: value) }
        if addresses.isEmpty, let to = original?.header("to") { addresses = TextScanning.addresses(in: to) }
        report.recipients = Array(Set(addresses)).sorted().map {
            BounceRecipient(
                address: $0, status: "", statusInferred: false, replyCode: "", reason: .feedback, hard: false, permanent: true,
                diagnostic: "complaint (\(report.feedbackType ?? "abuse"))")
        }
        return report
    }

    static func isComplaintSubject(_ subject: String?) -> Bool {
        guard let subject = subject?.lowercased() else { return false }
        return subject.contains("complaint") || subject.contains("abuse")
    }

    /// `Name: value` lines of a report part (feedback or delivery status), first of each name.
    static func fields(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in MIMEEntity.parseHeaders(Array(text.utf8)[...]) where result[name] == nil {
            result[name] = value
        }
        return result
    }

    // MARK: - Unsubscribe requests and auto-replies

    private func unsubscribeRequest(_ message: MIMEEntity) -> String? {
        let subject = (message.header("subject") ?? "").trimmingSpaces()
        let toUs = unsubscribeAddress.map { address in
            Self.envelopeRecipients(of: message).contains { $0 == address || Self.isPlusExtension($0, of: address) }
        } ?? false
        let words = subject.split(whereSeparator: \.isWhitespace)
        let asksToLeave = words.first?.lowercased() == "unsubscribe"
        guard toUs || asksToLeave else { return nil }
        return words.count >= 2 && words[0].lowercased() == "unsubscribe" ? String(words[1]) : ""
    }

    static func isPlusExtension(_ address: String, of base: String) -> Bool {
        guard let at = base.firstIndex(of: "@") else { return false }
        return address.hasPrefix(base[..<at] + "+") && address.hasSuffix(base[at...])
    }

    static func isAutoReply(_ message: MIMEEntity) -> Bool {
        if let auto = message.header("auto-submitted")?.lowercased(), auto.hasPrefix("auto-replied") { return true }
        if message.header("x-autoreply") != nil || message.header("x-autorespond") != nil || message.header("x-autoresponder") != nil {
            return true
        }
        if let precedence = message.header("precedence")?.lowercased(), precedence.contains("auto_reply") { return true }
        let subject = (message.header("subject") ?? "").lowercased()
        return autoReplySubjects.contains { subject.hasPrefix($0) } || subject.contains("out of office") || subject.contains("out of the office")
    }

    static let autoReplySubjects = [
        "auto:", "automatic reply", "autoreply", "auto-reply", "auto reply", "autoresponse", "auto response", "vacation", "away",
        "abwesenheit", "réponse automatique", "respuesta automática", "risposta automatica", "自動返信", "自动回复",
    ]

    // MARK: - Bounces

    static func looksLikeBounce(_ message: MIMEEntity) -> Bool {
        if saysItIsABounce(message) { return true }
        // Auto-replies are sent with a null return path too (RFC 3834), so this alone is weaker.
        return message.header("return-path")?.trimmingSpaces() == "<>"
    }

    /// A bounce by its sender or its subject.
    static func saysItIsABounce(_ message: MIMEEntity) -> Bool {
        let from = (message.header("from") ?? "").lowercased()
        if bounceSenders.contains(where: from.contains) { return true }
        let subject = (message.header("subject") ?? "").lowercased()
        return bounceSubjects.contains(where: subject.contains)
    }

    static let bounceSenders = [
        "mailer-daemon", "postmaster", "mail delivery", "mailer_daemon", "mail-daemon", "maildaemon", "mail administrator",
        "system administrator", "mail.delivery", "nobody@", "<>",
    ]

    static let bounceSubjects = [
        "undeliver", "delivery status", "delivery failure", "delivery failed", "failure notice", "returned mail", "mail delivery",
        "delivery notification", "nondeliverable", "non-deliverable", "not delivered", "could not be delivered", "undelivered",
        "delivery problem", "mail failure", "returned to sender", "rejected", "delivery has failed", "error sending",
        "warning: could not send", "unzustellbar", "non remis", "不能投递", "エラー",
    ]

    /// The addresses the inbound message itself was sent to.
    static func envelopeRecipients(of message: MIMEEntity) -> [String] {
        var addresses: [String] = []
        for name in ["x-original-to", "delivered-to", "envelope-to", "to", "cc", "x-envelope-to"] {
            for value in message.headers(name) {
                for address in TextScanning.addresses(in: value) where !addresses.contains(address) { addresses.append(address) }
            }
        }
        return addresses
    }

    /// The returned message: an attached `message/rfc822` or `text/rfc822-headers`, or the
    /// text after a "copy of the message follows" line.
    static func originalMessage(in message: MIMEEntity) -> MIMEEntity? {
        for entity in message.allEntities.dropFirst() {
            let type = entity.contentType.full
            if type == "message/rfc822" || type == "message/global", let inner = entity.parts.first { return inner }
            if type == "text/rfc822-headers" || type == "message/rfc822-headers" || type == "message/global-headers" {
                return MIMEEntity(bytes: Array(entity.text.utf8))
            }
        }
        let text = message.parts.isEmpty ? message.text : (message.allEntities.first { $0.contentType.type == "text" }?.text ?? "")
        guard let split = FreeTextBounce.originalStart(text) else { return nil }
        let copy = text[split...].drop { $0.isWhitespace }
        return MIMEEntity(bytes: Array(copy.utf8))
    }

    /// The human-readable part of a bounce: the first text part outside the returned message,
    /// up to where the returned message starts.
    static func reportText(of message: MIMEEntity, original: MIMEEntity?) -> String {
        var text: String
        if message.parts.isEmpty {
            text = message.text
        } else {
            let candidates = message.parts.flatMap { part in part.contentType.type == "multipart" ? part.parts : [part] }
            let plain = candidates.first { $0.contentType.full == "text/plain" && !$0.text.trimmingSpaces().isEmpty }
            let html = candidates.first { $0.contentType.full == "text/html" }
            text = plain?.text ?? html.map { HTMLText.strip($0.text) } ?? message.text
        }
        if let split = FreeTextBounce.originalStart(text) { text = String(text[..<split]) }
        return text
    }
}

/// Just enough HTML-to-text for HTML-only bounces (Office 365, some providers).
enum HTMLText {
    static func strip(_ html: String) -> String {
        var output = ""
        var inTag = false
        var tag = ""
        for character in html {
            if inTag {
                if character == ">" {
                    inTag = false
                    let name = tag.lowercased()
                    if name.hasPrefix("br") || name.hasPrefix("p") || name.hasPrefix("/p") || name.hasPrefix("div") || name.hasPrefix("/div")
                        || name.hasPrefix("tr") || name.hasPrefix("/tr")
                    {
                        output.append("\n")
                    }
                } else {
                    tag.append(character)
                }
            } else if character == "<" {
                inTag = true
                tag = ""
            } else {
                output.append(character)
            }
        }
        return output.replacingOccurrences(of: "&nbsp;", with: " ").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }
}
