import Foundation
import PaperPostCore
@testable import Rendering
import Testing

@Suite("The digest in Markdown")
struct DigestMarkdownTests {
    static let templates = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path

    /// The line kinds that make up the reference's structure, in order.
    static func skeleton(_ markdown: String) -> [String] {
        markdown.split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            for prefix in ["# ", "📅", "> 📊", "## 🔥", "## 📋", "---", "### ", "🏷️", "👤", "|:-:|", "| # |", "🧪 ArXiv Daily Digest"] where line.hasPrefix(prefix) {
                return prefix
            }
            if line.hasPrefix("**"), let colon = line.range(of: "**: ") { return String(line[..<colon.upperBound]) }
            if line.hasPrefix("| ") { return "| row |" }
            return nil
        }
    }

    @Test("the fixture day renders section by section in the reference's structure, numbered without gaps")
    func matchesReference() throws {
        let reference = try String(contentsOf: try #require(Bundle.module.url(forResource: "Fixtures/digest-2026-02-21.zh", withExtension: "md")), encoding: .utf8)
        let ours = try DigestMarkdown(templatesDirectory: Self.templates).render(ReferenceDigest.digest(), language: .zh)
        #expect(Self.skeleton(ours) == Self.skeleton(reference))

        let referenceLines = Set(reference.split(separator: "\n").map(String.init))
        for line in [
            "# 🧪 ArXiv AI 日报",
            "📅 **2026-02-21 周六** | 🤖 扫描/精选: **50/9**",
            "> 📊 Tokens: **61,155** (¥0.0198)",
            "## 🔥 今日必读",
            "### 1. KLong: Training LLM Agent for Extremely Long-horizon Tasks",
            "👤 Yue Liu, Zhiyuan Hu, Flood Sung 等",
            "## 📋 同样值得关注",
            "| # | 论文 | 推荐理由 |",
            "|:-:|---|---|",
            "🧪 ArXiv Daily Digest | 扫描 cs.CL / cs.AI / cs.LG | 2026-02-21",
        ] {
            #expect(referenceLines.contains(line), "the reference has no line \(line)")
            #expect(ours.contains(line + "\n"), "ours has no line \(line)")
        }
        #expect(ours.contains("🏷️ `cs.AI (人工智能)` | 📄 [arXiv](https://arxiv.org/abs/2602.17547v1)"))
        #expect(ours.contains("**中文标题**: KLong：面向超长周期任务训练大语言模型智能体"))
        let rows = ours.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| #") }
        #expect(rows.map { $0.split(separator: "|")[0].trimmingCharacters(in: .whitespaces) } == ["3", "4", "5", "6", "7", "8", "9"])
        #expect(ours.contains("| 7 | [MolHIT: Advancing Molecular-Graph Generation with Hierarchical Discrete…](https://arxiv.org/abs/2602.17602v1) `cs.AI (人工智能)` | 分层离散扩散分子生成。 |"))
    }

    @Test("English labels, the heuristic banner, and a reader's edition numbered from 1")
    func englishEdition() throws {
        var digest = ReferenceDigest.digest()
        digest.mode = .heuristic
        digest.usage = TokenUsage()
        digest.entries = digest.entries.map { entry in
            var entry = entry
            entry.reasons[.en] = "Because."
            return entry
        }
        let markdown = try DigestMarkdown(templatesDirectory: Self.templates).render(digest, language: .en, categories: ["cs.CL"])
        #expect(markdown.contains("📅 **2026-02-21 Sat** | 🤖 Scanned/picked: **50/2**"))
        #expect(markdown.contains("> 📊 Tokens: **0**\n>\n> ⚙️ Heuristic mode"))
        #expect(markdown.contains("## 🔥 Must read"))
        #expect(markdown.contains("### 1. Sink-Aware Pruning for Diffusion Language Models"))
        #expect(markdown.contains("### 2. Modeling Distinct Human Interaction in Web Agents"))
        #expect(!markdown.contains("KLong"))
        #expect(markdown.contains("🧪 ArXiv Daily Digest | scanned cs.CL | 2026-02-21"))
    }

    @Test("hostile titles and model text cannot break the table, restyle the text or inject HTML")
    func hostileText() throws {
        let hostile = "A | B <script>alert(1)</script> **bold** _x_ [link](javascript:alert(1)) &amp;\r\nSecond line 🔥 مرحبا "
            + String(repeating: "W", count: 300) + " \u{E000}greeting\u{E001}"
        var digest = ReferenceDigest.digest()
        digest.entries[0].paper.title = hostile
        digest.entries[0].summaries[.zh]?.background = hostile
        digest.entries[3].paper.title = hostile
        digest.entries[3].reasons[.zh] = hostile
        let markdown = try DigestMarkdown(templatesDirectory: Self.templates).render(digest, language: .zh)
        let row = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("| 4 |") })
        #expect(row.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count == 4)
        #expect(!markdown.contains("\r"))
        #expect(!markdown.unicodeScalars.contains("\u{E000}"))

        let html = Markdown.html(markdown)
        #expect(!html.contains("<script"))
        #expect(!html.contains("href=\"javascript"))
        #expect(!html.contains("<strong>bold</strong>"))
        #expect(html.contains("A | B &lt;script&gt;alert(1)&lt;/script&gt; **bold** _x_ [link](javascript:alert(1)) &amp;amp; Second line 🔥 مرحبا"))
        let text = Markdown.plainText(markdown)
        #expect(text.contains("A | B <script>alert(1)</script> **bold** _x_ [link](javascript:alert(1)) &amp; Second line"))
    }

    @Test("a title is cut at a word boundary near 80 characters")
    func shortening() {
        #expect(DigestMarkdown.shortened("Short title") == "Short title")
        let long = "MolHIT: Advancing Molecular-Graph Generation with Hierarchical Discrete Diffusion Models"
        // "Diffusion" straddles the 80th character, so the cut comes before it.
        #expect(DigestMarkdown.shortened(long) == "MolHIT: Advancing Molecular-Graph Generation with Hierarchical Discrete…")
    }

    @Test("TeX accents in author names become letters")
    func texAccents() {
        #expect("Paulo Andr\\'e Lima".decodingTeXAccents == "Paulo André Lima")
        #expect("M\\\"{u}ller and {\\c{C}}elik".decodingTeXAccents == "Müller and Çelik")
        #expect("Plain Name".decodingTeXAccents == "Plain Name")
    }
}
