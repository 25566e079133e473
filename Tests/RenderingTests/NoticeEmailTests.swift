import Foundation
import PaperPostCore
import Rendering
import TestSupport
import Testing

@Suite("Notices (confirmation mail)")
struct NoticeEmailTests {
    @Test("the text part wraps at 78 columns (only the link may be longer) and replies go to Reply-To")
    func wrappedText() throws {
        var settings = EmailComposerTests.settings
        settings.mail.replyTo = try EmailAddress("editor@example.org")
        let composer = try NoticeComposer(settings: settings)
        let url = "https://digest.example.org/confirm?token=c.42.1771660800." + String(repeating: "A", count: 43)
        let notice = Notice(
            language: .en, subject: "Please confirm", heading: "Confirm your subscription",
            paragraphs: [String(repeating: "Someone subscribed this address to the ArXiv AI Daily. ", count: 4), "短" + String(repeating: "中文段落", count: 30)],
            actionLabel: "Confirm my subscription", actionURL: url,
            footer: "If this was not you, ignore this email: without confirmation you will receive nothing at all, ever, from us.")
        let message = try InspectedMessage.inspect(composer.compose(notice, to: "reader@example.com", name: nil).bytes)
        #expect(message.defects.isEmpty)
        #expect(message.headers["Reply-To"] == "editor@example.org")
        let lines = message.parts[0].text.split(separator: "\n").map(String.init)
        #expect(lines.contains(url))
        #expect(lines.filter { $0 != url }.allSatisfy { $0.displayWidth <= 78 }, "\(lines)")
    }
}
