import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import PaperPostCore
import Testing

/// Papers whose title and abstract try every way of becoming a link, curated by the heuristic
/// (whose summaries and reasons are the abstract's own sentences), then shown by the web app.
@Suite("The web app: untrusted text, labels and notes")
struct UntrustedTextWebTests {
    static let hostile = "See http://evil.example/x and www.evil.example, [click](http://evil.example), <http://evil.example>, "
        + "<a href=\"http://evil.example\">here</a>, write to alice@evil.example."

    static let papers = (0..<3).map { number in
        Paper(
            id: "2602.0000\(number)", version: 1, title: "Paper \(number): \(hostile)",
            abstract: "Agents struggle, see http://evil.example/x. We propose www.evil.example and [click](http://evil.example). "
                + "Experiments show <http://evil.example> and <a href=\"http://evil.example\">here</a> beat baselines; write to alice@evil.example.",
            authors: ["A"], categories: ["cs.AI"])
    }

    /// Every `href` and `src` in the page (escaped text has `&quot;`, not `"`), and every `<a>`
    /// tag has one; each is this site's (relative, or under the base URL) or an arXiv abstract page.
    static func expectOnlyOwnLinks(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let attribute = try Regex(#"(?:href|src)\s*=\s*["']([^"']*)["']"#)
        for match in html.matches(of: attribute) {
            let destination = match.output[1].substring.map(String.init) ?? ""
            let own = (destination.hasPrefix("/") && !destination.hasPrefix("//")) || destination.hasPrefix("https://digest.example.org/")
            #expect(own || destination.hasPrefix("https://arxiv.org/abs/"), "links to \(destination)", sourceLocation: sourceLocation)
        }
        for anchor in html.matches(of: try Regex(#"<a\b[^>]*>"#).ignoresCase()) {
            #expect(html[anchor.range].contains(attribute), "\(html[anchor.range]) has no checked destination", sourceLocation: sourceLocation)
        }
        for needle in ["evil.example", "://evil", "www.evil"] {
            #expect(!html.contains(needle), "a linkifier would find \(needle)", sourceLocation: sourceLocation)
        }
    }

    @Test("edition pages link only to arXiv and the site, label the abstract's sentences as original (「原文」), and show the notes")
    func edition() async throws {
        try await withWebApp(papers: Self.papers) { _, client in
            try await client.execute(uri: "/archive/2026-02-20?lang=zh", method: .get) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                try Self.expectOnlyOwnLinks(page)
                #expect(page.replacingOccurrences(of: "\u{2060}", with: "").contains("http://evil.example/x"), "the address is still readable")
                #expect(page.contains(#"<a href="https://arxiv.org/abs/2602.00000v1">"#))
                #expect(page.contains("⚙️ 启发式模式"))
                #expect(page.contains("<strong>背景与痛点</strong> 「原文」: "))
                #expect(page.contains("ℹ️ 本期说明（运行记录，英文）"))
                #expect(page.contains("heuristic curation: no PAPERPOST_LLM_API_KEY is set"))
            }
            try await client.execute(uri: "/archive/2026-02-20?lang=en", method: .get) { response in
                let page = String(buffer: response.body)
                try Self.expectOnlyOwnLinks(page)
                #expect(page.contains("ℹ️ Notes on this edition"))
            }
        }
    }

    @Test("the home page's sample, the archive list and the feed link only to the site")
    func homeAndFeed() async throws {
        try await withWebApp(papers: Self.papers) { _, client in
            for uri in ["/?lang=en", "/?lang=zh", "/archive?lang=en"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    let page = String(buffer: response.body)
                    try Self.expectOnlyOwnLinks(page)
                    if uri.hasPrefix("/?") {
                        #expect(page.contains("Paper 0: See http:\u{2060}//evil\u{2060}.example/x"))
                    }
                }
            }
            try await client.execute(uri: "/feed.xml", method: .get) { response in
                let xml = String(buffer: response.body)
                try Self.expectOnlyOwnLinks(xml)
                #expect(xml.contains("Paper 0: See http:\u{2060}//evil\u{2060}.example/x"))
                #expect(XMLParser(data: Data(xml.utf8)).parse())
            }
        }
    }
}
