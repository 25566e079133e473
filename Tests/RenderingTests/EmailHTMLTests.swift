@testable import Rendering
import Testing

@Suite("Inline styles for email clients")
struct EmailHTMLTests {
    @Test("every tag cmark writes gets its style once; other tags, attributes and text are left as they were")
    func styles() {
        let html = """
            <h2>Must read 必读</h2>
            <p>One <code>x</code> and <a href="https://arxiv.org/abs/2602.00001">a link</a>.</p>
            <hr />
            <table>
            <thead><tr><th style="text-align: left">#</th><th>Title</th></tr></thead>
            <tbody><tr><td style="text-align: right">1</td><td>Paper &lt;p&gt;</td></tr></tbody>
            </table>
            <ol start="3"><li><pre><code>p&gt;q</code></pre></li></ol>
            <ul><li>item</li></ul><blockquote><p>quote</p></blockquote>
            """
        let styled = EmailHTML.styled(html)
        let style = Dictionary(uniqueKeysWithValues: EmailHTML.styles.map { ($0.tag, $0.style) })
        #expect(styled.contains("<h2 style=\"\(style["h2"]!)\">Must read 必读</h2>"))
        #expect(styled.contains("<p style=\"\(style["p"]!)\">One <code style=\"\(style["code"]!)\">x</code>"))
        #expect(styled.contains("<a style=\"color:#0969da;\" href=\"https://arxiv.org/abs/2602.00001\">a link</a>"))
        #expect(styled.contains("<hr style=\"border:none;border-top:1px solid #d0d7de;margin:20px 0;\" />"))
        #expect(styled.contains("<th style=\"\(style["th"]!)text-align: left\">#</th><th style=\"\(style["th"]!)\">Title</th>"))
        #expect(styled.contains("<td style=\"\(style["td"]!)text-align: right\">1</td>"))
        // Escaped text is not a tag; a tag with other attributes, and `pre`, keep their form.
        #expect(styled.contains("Paper &lt;p&gt;</td>"))
        #expect(styled.contains("<ol start=\"3\"><li><pre><code style=\"\(style["code"]!)\">p&gt;q</code></pre>"))
        #expect(styled.contains("<ul style=\"\(style["ul"]!)\">"))
        #expect(styled.contains("<blockquote style=\"\(style["blockquote"]!)\"><p style=\"\(style["p"]!)\">quote</p>"))
        #expect(styled.contains("<table style=\"\(style["table"]!)\">"))
        #expect(!styled.contains("</p style"))
        #expect(EmailHTML.styled(styled).count > styled.count, "styling is not idempotent, and needs not be: it runs once")
    }
}
