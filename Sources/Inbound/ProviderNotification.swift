import Foundation

/// Amazon SES's bounce and complaint notifications, mailed as JSON (directly or wrapped in an
/// SNS envelope): what a sender who relays through SES receives instead of DSNs.
enum ProviderNotification {
    static func parse(_ message: MIMEEntity) -> (kind: InboundReport.Kind, recipients: [BounceRecipient], feedbackType: String?)? {
        let text = message.allEntities.first { $0.contentType.type == "text" || $0.contentType.full == "application/json" }?.text ?? message.text
        let exact = FoldedText(exactly: text)
        guard exact.contains("notificationType") || exact.contains("eventType"), let open = text.firstIndex(of: "{") else { return nil }
        guard var object = json(text[open...]) else { return nil }
        if let wrapped = object["Message"] as? String, let inner = json(wrapped[...]) { object = inner }
        let type = (object["notificationType"] ?? object["eventType"]) as? String
        switch type {
        case "Bounce":
            guard let bounce = object["bounce"] as? [String: Any] else { return nil }
            let permanent = (bounce["bounceType"] as? String) == "Permanent"
            let subType = (bounce["bounceSubType"] as? String ?? "").lowercased()
            let list = bounce["bouncedRecipients"] as? [[String: Any]] ?? []
            let recipients = list.compactMap { entry -> BounceRecipient? in
                guard let address = (entry["emailAddress"] as? String).flatMap({ TextScanning.addresses(in: $0).first }) else { return nil }
                let diagnostic = DeliveryStatusReport.strippingType(entry["diagnosticCode"] as? String ?? "")
                let status = (entry["status"] as? String).flatMap(TextScanning.status(in:))
                var bounce = FreeTextBounce.recipient(
                    address, status: status, replyCode: TextScanning.replyCode(in: diagnostic) ?? "", diagnostic: diagnostic,
                    context: diagnostic + " " + subType, delayed: !permanent)
                if subType == "noemail" || subType == "general" && permanent && bounce.reason == .undefined {
                    bounce.reason = .userUnknown
                    bounce.hard = true
                }
                if subType == "mailboxfull" { bounce.reason = .mailboxFull; bounce.hard = false }
                if subType == "suppressed" || subType == "onaccountsuppressionlist" { bounce.reason = .suspend; bounce.hard = false }
                return bounce
            }
            return (.bounce, recipients, nil)
        case "Complaint":
            guard let complaint = object["complaint"] as? [String: Any] else { return nil }
            let feedbackType = (complaint["complaintFeedbackType"] as? String)?.lowercased() ?? "abuse"
            let list = complaint["complainedRecipients"] as? [[String: Any]] ?? []
            let recipients = list.compactMap { entry -> BounceRecipient? in
                guard let address = (entry["emailAddress"] as? String).flatMap({ TextScanning.addresses(in: $0).first }) else { return nil }
                return BounceRecipient(
                    address: address, status: "", statusInferred: false, replyCode: "", reason: .feedback, hard: false, permanent: true,
                    diagnostic: "complaint (\(feedbackType))")
            }
            return (.complaint, recipients, feedbackType)
        case "Delivery":
            return (.delivered, [], nil)
        default:
            return nil
        }
    }

    private static func json(_ text: Substring) -> [String: Any]? {
        // Mail bodies wrap long lines; the JSON is whatever is between the first "{" and last "}".
        guard let close = text.lastIndex(of: "}") else { return nil }
        let body = text[...close].replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(of: "\n", with: "")
        return (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }
}
