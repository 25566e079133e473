import Testing
@testable import Rendering

/// The tags in an HTML fragment, e.g. `<a href="">`, without the text between them.
private func tags(in html: String) -> [Substring] {
    var result: [Substring] = []
    var rest = html[...]
    while let open = rest.firstIndex(of: "<") {
        guard let close = rest[open...].firstIndex(of: ">") else { break }
        result.append(rest[open...close])
        rest = rest[rest.index(after: close)...]
    }
    return result
}

@Suite("Markdown to HTML")
struct MarkdownHTMLTests {
    @Test("an escaped pipe inside a table cell stays in one cell")
    func escapedPipeInTable() {
        let html = Markdown.html("| Model | Note |\n|---|---|\n| x \\| y | z |\n")
        #expect(html.contains("<table>"))
        #expect(html.contains("<td>x | y</td>"))
        #expect(html.contains("<td>z</td>"))
        #expect(html.split(separator: "<td", omittingEmptySubsequences: false).count - 1 == 2)
    }

    @Test("table alignment comes out as style attributes, not align=")
    func tableAlignmentUsesStyle() {
        let html = Markdown.html("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n")
        #expect(html.contains(#"<td style="text-align: left">1</td>"#))
        #expect(html.contains(#"<td style="text-align: center">2</td>"#))
        #expect(html.contains(#"<th style="text-align: right">c</th>"#))
        #expect(!html.contains("align=\""))
    }

    @Test("raw script and img tags never reach the output")
    func rawHTMLIsOmitted() {
        let html = Markdown.html("""
            <script>alert(1)</script>

            Look: <img src=x onerror=alert(1)> and <b onclick="x()">bold</b>.

            <div onmouseover="evil()">block</div>
            """)
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<div"))
        #expect(!tags(in: html).contains { $0.contains("onerror") || $0.contains("onclick") || $0.contains("onmouseover") })
        #expect(html.contains("raw HTML omitted"))
        #expect(html.contains("Look:"))
    }

    @Test("a javascript: link gets an empty href even where every destination is allowed, and no link at all by default")
    func dangerousURLIsBlanked() {
        let markdown = "[x](javascript:alert(1)) [y](vbscript:msgbox) [z](file:///etc/passwd) [w](data:text/html,hi)"
        #expect(Markdown.html(markdown, links: .unrestricted) == #"<p><a href="">x</a> <a href="">y</a> <a href="">z</a> <a href="">w</a></p>"# + "\n")
        #expect(Markdown.html(markdown) == "<p>x y z w</p>\n")
    }

    @Test("a data: image stays where every destination is allowed, since cmark allows images; by default it is its description")
    func dataImageIsAllowed() {
        #expect(Markdown.html("![i](data:image/png;base64,AAAA)", links: .unrestricted).contains(#"src="data:image/png;base64,AAAA""#))
        #expect(Markdown.html("![i](data:image/png;base64,AAAA)") == "<p>i</p>\n")
    }

    @Test("only links the policy allows stay links; the others keep their text, formatting included")
    func linkPolicy() {
        let markdown = """
            [paper](https://arxiv.org/abs/2602.17547v1) [home](https://digest.example.org/archive) \
            [**evil**](http://evil.example/x) <http://evil.example/y> [look-alike](https://arxiv.org.evil.example/abs/1) \
            [site look-alike](https://digest.example.org.evil.example/) ![pixel](https://evil.example/p.png) \
            [![nested](https://evil.example/i.png)](https://arxiv.org/abs/2602.00001v1) [mail](mailto:a@evil.example)
            """
        let html = Markdown.html(markdown, links: .arxivAbstracts(andSite: "https://digest.example.org"))
        let destinations = tags(in: html).filter { $0.hasPrefix("<a") || $0.hasPrefix("<img") }
        #expect(destinations == [
            #"<a href="https://arxiv.org/abs/2602.17547v1">"#, #"<a href="https://digest.example.org/archive">"#,
            #"<a href="https://arxiv.org/abs/2602.00001v1">"#,
        ])
        #expect(html.contains("<strong>evil</strong>"))
        #expect(html.contains("http://evil.example/y"))
        #expect(html.contains("look-alike"))
        #expect(html.contains(">nested</a>"))
        #expect(html.contains(" mail</p>"))
        // The digest's own Markdown has arXiv links only, so that is the default.
        #expect(!Markdown.html(markdown).contains("digest.example.org/archive\""))
    }

    @Test("bare addresses and email addresses stay text: the autolink extension is off")
    func noAutolinkExtension() {
        for text in ["http://evil.example/x", "https://arxiv.org/abs/2602.17547v1", "www.evil.example", "alice@evil.example"] {
            #expect(Markdown.html("See \(text) now.", links: .unrestricted) == "<p>See \(text) now.</p>\n")
        }
    }

    @Test("emphasis, strong emphasis and double-tilde strikethrough")
    func inlineFormatting() {
        let html = Markdown.html("*emph* **strong** ~~del~~")
        #expect(html == "<p><em>emph</em> <strong>strong</strong> <del>del</del></p>\n")
    }

    @Test("a single tilde stays literal, so arXiv's ~10x is not struck through")
    func singleTildeIsLiteral() {
        #expect(Markdown.html("about ~10x faster and ~5% smaller~") == "<p>about ~10x faster and ~5% smaller~</p>\n")
    }

    @Test("an arXiv URL written as an autolink becomes a link")
    func autolink() {
        let html = Markdown.html("See <https://arxiv.org/abs/2602.17547v1> for details.")
        #expect(html == #"<p>See <a href="https://arxiv.org/abs/2602.17547v1">https://arxiv.org/abs/2602.17547v1</a> for details.</p>"# + "\n")
    }

    @Test("escaped asterisks stay literal")
    func escapedEmphasis() {
        let html = Markdown.html(#"\*not emphasis\*"#)
        #expect(html == "<p>*not emphasis*</p>\n")
    }

    @Test("Chinese text with emoji passes through intact")
    func chineseAndEmoji() {
        let text = "大型语言模型的推理能力🔥：一项调查（综述）👍🏽🇨🇳"
        #expect(Markdown.html(text) == "<p>\(text)</p>\n")
        #expect(Markdown.html("**重点**") == "<p><strong>重点</strong></p>\n")
    }

    @Test("smart punctuation is off")
    func noSmartPunctuation() {
        #expect(Markdown.html(#"It's "quoted" -- really..."#) == "<p>It's &quot;quoted&quot; -- really...</p>\n")
    }

    @Test("empty input and a NUL byte")
    func edgeInputs() {
        #expect(Markdown.html("") == "")
        #expect(Markdown.plainText("") == "\n")  // cmark's plaintext renderer always ends with a newline
        #expect(Markdown.html("a\u{0}b") == "<p>a\u{FFFD}b</p>\n")
    }
}

@Suite("Markdown to plain text")
struct MarkdownPlainTextTests {
    @Test("headings, emphasis, code and quotes lose their syntax")
    func syntaxRemoved() {
        let text = Markdown.plainText("# Title\n\nSome *emph*, **strong** and `code`.\n\n> quoted\n")
        #expect(text == "Title\n\nSome emph, strong and code.\n\nquoted\n")
    }

    @Test("a link keeps only its text; an autolink keeps its URL")
    func links() {
        #expect(Markdown.plainText("[title](https://example.org/x)") == "title\n")
        #expect(Markdown.plainText("https://arxiv.org/abs/2602.17547v1") == "https://arxiv.org/abs/2602.17547v1\n")
        #expect(Markdown.plainText("<https://example.org/y>") == "https://example.org/y\n")
    }

    @Test("backslash escapes are removed")
    func escapesRemoved() {
        #expect(Markdown.plainText(#"a \| b \*c\* \_d\_"#) == "a | b *c* _d_\n")
    }

    @Test("list items keep their markers")
    func listMarkers() {
        #expect(Markdown.plainText("- one\n- two\n") == "  - one\n  - two\n")
        #expect(Markdown.plainText("1. first\n2. second\n") == "1.  first\n2.  second\n")
        #expect(Markdown.plainText("10. ten\n11. eleven\n") == "10. ten\n11. eleven\n")
    }

    @Test("soft line breaks become spaces, hard breaks stay")
    func lineBreaks() {
        #expect(Markdown.plainText("one\ntwo  \nthree\\\nfour") == "one two\nthree\nfour\n")
    }

    @Test("strikethrough keeps one tilde on each side")
    func strikethrough() {
        #expect(Markdown.plainText("~~gone~~ kept") == "~gone~ kept\n")
    }

    @Test("a table comes out as a normalised pipe table")
    func table() {
        let text = Markdown.plainText("| Model | Score |\n|-------|------:|\n| GPT-4 | 86.4 |\n| Llama | 79.2 |\n")
        #expect(text == "| Model | Score |\n| --- | --: |\n| GPT-4 | 86.4 |\n| Llama | 79.2 |\n")
    }

    @Test("raw HTML is dropped")
    func rawHTMLDropped() {
        #expect(Markdown.plainText("<script>alert(1)</script>\n\nok <b>bold</b>") == "ok bold\n")
    }

    @Test("plain text feeds the wrapper")
    func wrapsPlainText() {
        let text = Markdown.plainText("- " + String(repeating: "word ", count: 30)).wrapped(toColumns: 40)
        let lines = text.split(separator: "\n")
        #expect(lines.first?.hasPrefix("  - word") == true)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("    word") })
        #expect(lines.allSatisfy { $0.count <= 40 })
    }
}

@Suite("Markdown under concurrency")
struct MarkdownConcurrencyTests {
    static let document = """
        # Results 🔥

        We compare ~~old~~ **new** models; see https://arxiv.org/abs/2602.17547v1 and [code](https://github.com/x/y).

        | Model | Score | Note |
        |:------|------:|:----:|
        | GPT-4 | 86.4 | a \\| b |
        | Llama | 79.2 | ~~n/a~~ |

        - 大型语言模型 www.example.org
        - item ~~two~~ <script>x</script>
        """

    @Test("200 concurrent renders match a single-threaded one")
    func concurrentRenders() async {
        let html = Markdown.html(Self.document, links: .unrestricted)
        let text = Markdown.plainText(Self.document)
        #expect(html.contains("<del>old</del>"))
        #expect(html.contains("<del>n/a</del>"))
        #expect(html.contains(#"<a href="https://github.com/x/y">code</a>"#))
        #expect(html.contains(#"<td style="text-align: center">a | b</td>"#))

        let mismatches = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<200 {
                group.addTask {
                    index.isMultiple(of: 2)
                        ? Markdown.html(Self.document, links: .unrestricted) == html
                        : Markdown.plainText(Self.document) == text
                }
            }
            var count = 0
            for await same in group where !same {
                count += 1
            }
            return count
        }
        #expect(mismatches == 0)
    }
}
