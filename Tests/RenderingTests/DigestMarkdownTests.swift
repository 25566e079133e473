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
        // A reader's own edition: the day's count and theirs, said as such.
        #expect(markdown.contains("📅 **2026-02-21 Sat** | 🤖 Scanned today/picked for you: **50/2**"))
        #expect(markdown.contains("> 📊 Tokens: **0** (cost not priced)\n>\n> ⚙️ Heuristic mode"))
        #expect(markdown.contains("## 🔥 Must read"))
        #expect(markdown.contains("### 1. Sink-Aware Pruning for Diffusion Language Models"))
        #expect(markdown.contains("### 2. Modeling Distinct Human Interaction in Web Agents"))
        #expect(!markdown.contains("KLong"))
        #expect(markdown.contains("🧪 ArXiv Daily Digest | scanned cs.CL | 2026-02-21"))
    }

    @Test("in a reader's edition a paper filed elsewhere names the reader's category that brought it in")
    func viaCategory() throws {
        var digest = ReferenceDigest.digest()
        digest.entries = digest.entries.map { entry in
            var entry = entry
            if entry.paper.categories.contains("cs.CL") { entry.paper.categories = ["cs.SE"] + entry.paper.categories.filter { $0 != "cs.SE" } }
            return entry
        }
        let renderer = try DigestMarkdown(templatesDirectory: Self.templates)
        let reader = renderer.render(digest, language: .en, categories: ["cs.CL"])
        #expect(reader.contains("cs.SE (Software Engineering) · via cs.CL"))
        let chinese = renderer.render(digest, language: .zh, categories: ["cs.CL"])
        #expect(chinese.contains("cs.SE (软件工程) · 来自 cs.CL"))
        // The whole day's digest has no reader to explain anything to.
        #expect(!renderer.render(digest, language: .en).contains(" · via "))
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

    @Test("the header's cost is the digest's own: priced even when nothing was spent, 'not priced' only without prices")
    func cost() throws {
        let renderer = try DigestMarkdown(templatesDirectory: Self.templates)
        var digest = ReferenceDigest.digest()
        digest.usage = TokenUsage(promptTokens: 0, completionTokens: 0, cost: 0, currency: "CNY")
        #expect(renderer.render(digest, language: .zh).contains("> 📊 Tokens: **0** (¥0.0000)\n"))
        #expect(renderer.render(digest, language: .en).contains("> 📊 Tokens: **0** (¥0.0000)\n"))
        digest.usage = TokenUsage(promptTokens: 1_000, completionTokens: 234, cost: 0.5, currency: "USD")
        #expect(renderer.render(digest, language: .en).contains("> 📊 Tokens: **1,234** ($0.5000)\n"))
        digest.usage = TokenUsage(promptTokens: 1_000, completionTokens: 234, cost: 0.01, currency: "CHF")
        #expect(renderer.render(digest, language: .en).contains("> 📊 Tokens: **1,234** (CHF 0.0100)\n"))
        digest.usage = TokenUsage(promptTokens: 1_000, completionTokens: 234, cost: nil)
        #expect(renderer.render(digest, language: .en).contains("> 📊 Tokens: **1,234** (cost not priced)\n"))
        #expect(renderer.render(digest, language: .zh).contains("> 📊 Tokens: **1,234** (费用未计价)\n"))
    }

    @Test("a summary field holding the original English sentence is labelled 「原文」 / (original); a heuristic summary throughout")
    func originalText() throws {
        let renderer = try DigestMarkdown(templatesDirectory: Self.templates)
        var digest = ReferenceDigest.digest()
        digest.entries[0].summaries[.zh]?.results = "We gain 11.28 points on PaperBench."
        digest.entries[0].summaries[.zh]?.originalFields = [.results]
        digest.entries[0].summaries[.en] = Summary(
            title: digest.entries[0].paper.title, background: "Agents struggle.", innovation: "We propose KLong.", details: "Trajectory SFT.",
            results: "It wins.", source: .heuristic)
        digest.entries[1].summaries[.en] = Summary(
            title: digest.entries[1].paper.title, background: "B.", innovation: "I.", details: "The model's own words.", results: "Kept: 3 points.",
            source: .llm, originalFields: [.results])
        let zh = renderer.render(digest, language: .zh)
        #expect(zh.contains("**实验结果** 「原文」: We gain 11.28 points on PaperBench.\n"))
        #expect(zh.contains("**背景与痛点**: 现有大模型智能体多针对普通长周期任务设计。\n"))
        #expect(zh.components(separatedBy: "「原文」").count == 2, "only the marked field is labelled")

        let en = renderer.render(digest, language: .en)
        for line in ["**Background** (original): Agents struggle.", "**Core idea** (original): We propose KLong.",
                     "**Technical details** (original): Trajectory SFT.", "**Results** (original): It wins.",
                     "**Technical details**: The model's own words.", "**Results** (original): Kept: 3 points."] {
            #expect(en.contains(line + "\n"), "no line \(line)")
        }
        let html = Markdown.html(zh)
        #expect(html.contains("<strong>实验结果</strong> 「原文」: We gain 11.28 points on PaperBench."))
        #expect(Markdown.plainText(renderer.render(digest, language: .en, plain: true)).contains("Results (original): It wins."))
    }

    @Test("the digest's notes close the edition under a label in the reader's language; a mixed digest says so in the header")
    func notes() throws {
        let renderer = try DigestMarkdown(templatesDirectory: Self.templates)
        var digest = ReferenceDigest.digest()
        #expect(!renderer.render(digest, language: .zh).contains("本期说明"))
        digest.mode = .mixed
        digest.notes = ["spending cap reached: 2 paper(s) curated by the heuristic (2602.17658, 2602.17664)", "a *starred* | note"]
        let zh = renderer.render(digest, language: .zh)
        #expect(zh.contains("> 📊 Tokens: **61,155** (¥0.0198)\n>\n> ⚙️ 混合模式：部分论文由启发式整理"))
        #expect(zh.contains("""
            ---

            **ℹ️ 本期说明（运行记录，英文）**

            - spending cap reached: 2 paper(s) curated by the heuristic (2602.17658, 2602.17664)
            - a \\*starred\\* \\| note

            ---

            🧪 ArXiv Daily Digest | 扫描 cs.CL / cs.AI / cs.LG | 2026-02-21
            """))
        let en = renderer.render(digest, language: .en)
        #expect(en.contains("> ⚙️ Mixed mode: some papers were curated by the heuristic instead of the language model; the notes at the end say why."))
        #expect(en.contains("**ℹ️ Notes on this edition**\n\n- spending cap reached"))
        let html = Markdown.html(en)
        #expect(html.contains("<li>a *starred* | note</li>"))
        let text = Markdown.plainText(renderer.render(digest, language: .en, plain: true))
        #expect(text.contains("Notes on this edition"))
        #expect(text.contains("- spending cap reached: 2 paper(s)"))

        digest.mode = .heuristic
        digest.notes = ["heuristic curation: no PAPERPOST_LLM_API_KEY is set"]
        let heuristic = renderer.render(digest, language: .zh)
        #expect(heuristic.contains("> ⚙️ 启发式模式：本期没有大模型的结果"))
        #expect(heuristic.contains("- heuristic curation: no PAPERPOST\\_LLM\\_API\\_KEY is set\n"))

        // The operator's PAPERPOST_LLM_FALLBACK=heuristic after a failed model, whatever the mode.
        for mode in [Digest.Mode.heuristic, .mixed] {
            digest.mode = mode
            digest.modelFailure = "HTTP 402 Insufficient Balance"
            digest.notes = ["the model failed (HTTP 402 Insufficient Balance); the rest of this digest is the heuristic's"]
            let zh = renderer.render(digest, language: .zh)
            #expect(zh.contains("> ⚙️ 启发式备用模式：今天大模型出了故障"))
            #expect(!zh.contains("混合模式") && !zh.contains("> ⚙️ 启发式模式"))
            #expect(zh.contains("- the model failed (HTTP 402 Insufficient Balance)"))
            #expect(renderer.render(digest, language: .en).contains("> ⚙️ Heuristic fallback: the language model failed today"))
        }
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
