import Foundation
import Mustache
import PaperPostCore

/// A short message about a subscription (a confirmation link, "you are already subscribed"):
/// a heading, a few paragraphs and one link, in the digest's look.
public struct Notice: Sendable, Hashable {
    public var language: Language
    public var subject: String
    public var heading: String
    public var paragraphs: [String]
    public var actionLabel: String
    public var actionURL: String
    /// Why the reader got this message, and what to do if they did not ask for it.
    public var footer: String

    public init(
        language: Language, subject: String, heading: String, paragraphs: [String], actionLabel: String, actionURL: String,
        footer: String
    ) {
        self.language = language
        self.subject = subject
        self.heading = heading
        self.paragraphs = paragraphs
        self.actionLabel = actionLabel
        self.actionURL = actionURL
        self.footer = footer
    }
}

/// Turns a ``Notice`` into one MIME message (plain text and HTML) from `notice.txt.mustache`
/// and `notice.html.mustache`.
public struct NoticeComposer: Sendable {
    let html: MustacheTemplate
    let text: MustacheTemplate
    let fromHeader: String
    let domain: String
    let replyToHeader: [String]

    /// - Throws: ``RenderingError`` when a template is missing or broken.
    public init(settings: Settings) throws(RenderingError) {
        html = try RenderingError.loading(settings.templatesDirectory, "notice.html.mustache")
        text = try RenderingError.loading(settings.templatesDirectory, "notice.txt.mustache")
        fromHeader = MIMEEncoding.mailbox(name: settings.mail.from.displayName, address: settings.mail.from.address.value)
        domain = String(settings.mail.from.address.domain)
        replyToHeader = settings.mail.replyTo.map { ["Reply-To: \($0.value)"] } ?? []
    }

    /// The whole message, CRLF line ends; it is marked `Auto-Submitted: auto-generated` so that
    /// vacation responders do not answer it.
    public func compose(_ notice: Notice, to address: String, name: String?, date: MessageDate = MessageDate()) -> ComposedNotice {
        let context: [String: Any] = [
            "lang": notice.language == .zh ? "zh-CN" : "en", "subject": notice.subject, "heading": notice.heading,
            "paragraphs": notice.paragraphs, "action_label": notice.actionLabel, "action_url": notice.actionURL,
            "footer": notice.footer,
        ]
        let htmlBody = html.render(context)
        // The text part wraps at 78 columns, as the digest's does; the link stays whole.
        var textContext = context
        textContext["paragraphs"] = notice.paragraphs.map { $0.wrapped(toColumns: 78) }
        textContext["footer"] = notice.footer.wrapped(toColumns: 78)
        let textBody = text.render(textContext)
        let messageID = "<notice.\(String.randomHex(bytes: 12))@\(domain)>"
        let boundary = "=_notice_" + String.randomHex(bytes: 12)
        var bytes: [UInt8] = []
        for header in [
            "From: \(fromHeader)",
            "To: \(MIMEEncoding.mailbox(name: name, address: address))",
            "Subject: \(MIMEEncoding.headerText(notice.subject))",
            "Date: \(date.header)",
            "Message-ID: \(messageID)",
        ] + replyToHeader + [
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"",
        ] {
            bytes += header.utf8
            bytes += MIMEEncoding.crlf
        }
        bytes += MIMEEncoding.crlf
        for (type, body) in [("text/plain", textBody), ("text/html", htmlBody)] {
            bytes += "--\(boundary)\r\nContent-Type: \(type); charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n".utf8
            MIMEEncoding.quotedPrintable(Array(Self.crlfLines(body).utf8), into: &bytes)
            bytes += MIMEEncoding.crlf
        }
        bytes += "--\(boundary)--\r\n".utf8
        return ComposedNotice(messageID: messageID, bytes: bytes, html: htmlBody)
    }

    static func crlfLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
            .joined(separator: "\r\n")
    }
}

/// A composed notice: its Message-ID, its bytes, and its HTML part for previews.
public struct ComposedNotice: Sendable {
    public var messageID: String
    public var bytes: [UInt8]
    public var html: String
}
