import Foundation
import PaperPostCore
@testable import Rendering
import TestSupport
import Testing

/// Text from arXiv or the model that tries every way of becoming a link.
enum HostileText {
    static let text = "See http://evil.example/x and www.evil.example, [click](http://evil.example), <http://evil.example>, "
        + "<a href=\"http://evil.example\">here</a>, write to alice@evil.example."

    /// The must-read papers' titles, summaries and reasons, the further picks' titles and
    /// reasons, and a note, all hostile, in Chinese and English.
    static func digest() -> Digest {
        var digest = EmailComposerTests.digest()
        digest.entries = digest.entries.map { entry in
            var entry = entry
            entry.paper.title = "Title: " + text
            // A primary category no table knows, as a feed could send it, ahead of the real ones.
            entry.paper.categories.insert("cs.XX`[x](http://evil.example)`", at: 0)
            entry.paper.abstract = text
            for language in [Language.zh, .en] {
                entry.reasons[language] = text
                if entry.summaries[language] != nil {
                    entry.summaries[language] = Summary(
                        title: "标题 " + text, background: text, innovation: text, details: text, results: text, source: .llm)
                }
            }
            return entry
        }
        digest.notes = ["the endpoint answered: " + text]
        return digest
    }

    /// Every `href` and `src` of a tag in the HTML (text that only looks like one is escaped
    /// and has `&quot;` where a tag has `"`).
    static func destinations(_ html: String) throws -> [String] {
        let regex = try Regex(#"(?:href|src)\s*=\s*["']([^"']*)["']"#)
        return html.matches(of: regex).compactMap { $0.output[1].substring.map(String.init) }
    }

    /// The number of `<a` tags, whatever their attributes.
    static func anchors(_ html: String) throws -> Int {
        html.matches(of: try Regex(#"<a[\s>]"#).ignoresCase()).count
    }

    /// What a linkifier in a mail client or feed reader would need to see contiguous.
    static func expectNothingLinkable(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for needle in ["evil.example", "://evil", "www.evil"] {
            #expect(!text.contains(needle), "a linkifier would find \(needle)", sourceLocation: sourceLocation)
        }
    }

    /// The address is still there for a reader to see (with invisible word joiners in it).
    static func expectReadable(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let visible = text.replacingOccurrences(of: "\u{2060}", with: "")
        for needle in ["http://evil.example/x", "www.evil.example", "alice@evil.example"] {
            #expect(visible.contains(needle), "the text lost \(needle)", sourceLocation: sourceLocation)
        }
    }
}

@Suite("Untrusted text never becomes a link")
struct UntrustedTextTests {
    @Test("addresses, domains and email addresses get word joiners; numbers, sentence ends and plain text do not")
    func linkInert() {
        #expect("http://evil.example/x".linkInert == "http:\u{2060}//evil\u{2060}.example/x")
        #expect("www.evil.example".linkInert == "www\u{2060}.evil\u{2060}.example")
        #expect("alice@evil.example".linkInert == "alice@evil\u{2060}.example")
        #expect("HTTPS://Evil.Example".linkInert == "HTTPS:\u{2060}//Evil\u{2060}.Example")
        for unchanged in ["GPT-3.5 gains 2.8 points.", "It works. Then", "ratio 1:2 // comment", "大模型。下一句", "e.", ""] {
            #expect(unchanged.linkInert == unchanged)
        }
    }

    @Test("a category code no table knows keeps only a code's characters, so it cannot close its code span")
    func unknownCategory() {
        #expect(DigestMarkdown.tag("cs.AI", .en) == "cs.AI (Artificial Intelligence)")
        #expect(DigestMarkdown.tag("cs.XX`[x](http://evil.example)`", .en) == "cs\u{2060}.XXxhttpevil\u{2060}.example")
    }

    @Test("the Markdown digest holds no link but arXiv's, in both languages and both variants")
    func markdown() throws {
        let renderer = try DigestMarkdown(templatesDirectory: DigestMarkdownTests.templates)
        for language in [Language.zh, .en] {
            for plain in [false, true] {
                let markdown = renderer.render(HostileText.digest(), language: language, plain: plain)
                HostileText.expectNothingLinkable(markdown)
                let html = Markdown.html(markdown)
                #expect(try HostileText.destinations(html).allSatisfy { $0.hasPrefix("https://arxiv.org/abs/") })
                #expect(try HostileText.anchors(html) == HostileText.destinations(html).count)
                if !plain {
                    #expect(try HostileText.anchors(html) == 9, "one link per pick")
                }
                HostileText.expectNothingLinkable(html)
                HostileText.expectReadable(html)
                HostileText.expectNothingLinkable(Markdown.plainText(markdown))
                HostileText.expectReadable(Markdown.plainText(markdown))
            }
        }
    }

    @Test("the email's HTML part links only to arXiv and this site, its text part holds nothing a client would linkify", arguments: [
        EmailComposerTests.li, EmailComposerTests.ada,
    ])
    func email(recipient: Recipient) throws {
        let email = try #require(try EmailComposerTests().compose(recipient, digest: HostileText.digest()).1)
        let message = try InspectedMessage.inspect(email.bytes)
        #expect(message.defects.isEmpty)
        let text = message.parts[0].text
        let html = message.parts[1].text
        let destinations = try HostileText.destinations(html)
        #expect(!destinations.isEmpty)
        for destination in destinations {
            #expect(destination.hasPrefix("https://arxiv.org/abs/") || destination.hasPrefix("https://digest.example.org/"), "links to \(destination)")
        }
        #expect(try HostileText.anchors(html) == destinations.count)
        #expect(!html.contains("<img"))
        HostileText.expectNothingLinkable(html)
        HostileText.expectReadable(html)
        HostileText.expectNothingLinkable(text)
        HostileText.expectReadable(text)
        // PaperPost's own links are still written out in full.
        #expect(text.contains("https://arxiv.org/abs/2602.17"))
        #expect(text.contains("https://digest.example.org/unsubscribe?token="))
    }
}
