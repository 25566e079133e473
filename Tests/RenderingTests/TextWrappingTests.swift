import Testing
@testable import Rendering

private func lines(_ text: String) -> [Substring] {
    text.split(separator: "\n", omittingEmptySubsequences: false)
}

@Suite("Display width")
struct DisplayWidthTests {
    @Test("a category with Chinese in parentheses")
    func mixed() {
        #expect("cs.AI (人工智能)".displayWidth == 16)
    }

    @Test("emoji take two columns")
    func emoji() {
        #expect("🔥".displayWidth == 2)
        #expect("👍🏽".displayWidth == 2)
        #expect("🇨🇳".displayWidth == 2)
        #expect("👨‍👩‍👧".displayWidth == 2)
        #expect("❤️".displayWidth == 2)
        #expect("1️⃣".displayWidth == 2)
        #expect("©".displayWidth == 1)
    }

    @Test("combining marks and zero-width characters take none")
    func zeroWidth() {
        #expect("e\u{301}".displayWidth == 1)
        #expect("a\u{200B}b".displayWidth == 2)
        #expect("\u{200D}".displayWidth == 0)
        #expect("\u{FEFF}".displayWidth == 0)
    }

    @Test("wide and fullwidth characters take two")
    func wide() {
        #expect("。，：（）".displayWidth == 10)
        #expect("ＡＢ１".displayWidth == 6)
        #expect("한국어".displayWidth == 6)
        #expect("ひらがなカタカナ".displayWidth == 16)
        #expect("\u{3000}".displayWidth == 2)
        #expect("ascii".displayWidth == 5)
        #expect("“quoted”…".displayWidth == 9)
    }
}

@Suite("Wrapping")
struct WrappingTests {
    static let english = """
        Large language models have shown remarkable abilities across a wide range of tasks, yet their \
        reasoning remains brittle when problems require many steps. We introduce a simple method that \
        decomposes each problem into sub-goals and verifies them one by one, improving accuracy on \
        mathematical benchmarks by a wide margin while using fewer tokens than previous approaches.
        """

    @Test("English wraps at 78 columns without losing or splitting words")
    func english() {
        let wrapped = Self.english.wrapped()
        let output = lines(wrapped)
        #expect(output.count == 5)
        #expect(output.allSatisfy { $0.count <= 78 && !$0.hasSuffix(" ") && !$0.hasPrefix(" ") })
        #expect(wrapped.split(whereSeparator: { $0 == " " || $0 == "\n" }) == Self.english.split(separator: " "))
        // Greedy: the next line's first word would not have fitted.
        for (line, next) in zip(output, output.dropFirst()) {
            #expect(line.count + 1 + (next.split(separator: " ").first?.count ?? 0) > 78)
        }
    }

    @Test("a short line is left alone")
    func shortLine() {
        #expect("Hello, world.".wrapped() == "Hello, world.")
        #expect("".wrapped() == "")
    }

    @Test("a Chinese paragraph of 200 characters wraps to at most 39 characters a line, never starting with 。 or ，")
    func chinese() {
        // The commas and full stops sit where a naive 39-character cut would put them at a line start.
        let paragraph =
            String(repeating: "模", count: 39) + "，" + String(repeating: "型", count: 37) + "。" +
            "我们提出了一种新的方法，用于在大规模语言模型中进行高效的推理。实验表明，该方法在多个基准上均优于现有方法，" +
            "并且显著减少了计算开销。我们还分析了其局限性，并讨论了未来的研究方向：包括（多语言）场景和「长上下文」推理。"
        let padded = paragraph + String(repeating: "文", count: 200 - paragraph.count)
        #expect(padded.count == 200)
        let wrapped = padded.wrapped()
        let output = lines(wrapped)
        #expect(output.allSatisfy { $0.count <= 39 && String($0).displayWidth <= 78 })
        #expect(!output.contains { $0.hasPrefix("。") || $0.hasPrefix("，") || $0.hasPrefix("：") || $0.hasPrefix("）") || $0.hasPrefix("」") })
        #expect(!output.contains { $0.hasSuffix("（") || $0.hasSuffix("「") })
        #expect(output[0] == Substring(String(repeating: "模", count: 38)))
        #expect(output[1].hasPrefix("模，"))
        #expect(wrapped.replacingOccurrences(of: "\n", with: "") == padded)
        #expect(output.count == 6)
    }

    @Test("mixed Chinese and English breaks at spaces and between scripts, never inside a word")
    func mixed() {
        let text = "我们在GPT-4和Llama-3上评估了ChainOfThought方法，发现它在MATH数据集上提高了12.5个百分点。" +
            "This is consistent with prior work on reasoning (Wei et al., 2022) 以及最近关于自我验证的研究。" +
            "代码见 https://github.com/example/reasoning 。"
        let wrapped = text.wrapped(toColumns: 40)
        let output = lines(wrapped)
        #expect(output.count > 3)
        #expect(output.allSatisfy { String($0).displayWidth <= 40 })
        for word in ["GPT-4", "Llama-3", "ChainOfThought", "12.5", "consistent", "(Wei", "2022)", "https://github.com/example/reasoning"] {
            #expect(output.contains { $0.contains(word) }, "\(word) was split")
        }
        #expect(!output.contains { $0.hasPrefix("。") || $0.hasPrefix("，") || $0.hasPrefix(")") || $0.hasPrefix(",") })
        let squeeze = { (s: String) in s.filter { $0 != " " && $0 != "\n" } }
        #expect(squeeze(wrapped) == squeeze(text))
    }

    @Test("a 120-character URL stays whole on its own line")
    func longURL() {
        let url = "https://example.org/" + String(repeating: "abcdefghij", count: 10)
        #expect(url.count == 120)
        let wrapped = "See the project page at \(url) for code and data.".wrapped()
        #expect(lines(wrapped) == ["See the project page at", Substring(url), "for code and data."])
    }

    @Test("list markers and indentation give hanging indents")
    func hangingIndents() {
        let words = String(repeating: "alpha beta gamma ", count: 8).trimmingCharacters(in: " ")
        for prefix in ["- ", "* ", "12. ", "[3] ", "    ", "  - ", "1.  "] {
            let output = lines((prefix + words).wrapped(toColumns: 40))
            #expect(output.count > 1)
            #expect(output[0].hasPrefix(prefix + "alpha"))
            let indent = String(repeating: " ", count: prefix.count)
            #expect(output.dropFirst().allSatisfy { $0.hasPrefix(indent) && !$0.dropFirst(indent.count).hasPrefix(" ") }, "\(prefix)")
            #expect(output.allSatisfy { $0.count <= 40 })
        }
    }

    @Test("a dash inside a line is not a list marker")
    func notAMarker() {
        let output = lines(("word -" + String(repeating: " word", count: 20)).wrapped(toColumns: 30))
        #expect(output.dropFirst().allSatisfy { $0.hasPrefix("word") })
        let dashed = lines(("-dash" + String(repeating: " word", count: 20)).wrapped(toColumns: 30))
        #expect(dashed.dropFirst().allSatisfy { $0.hasPrefix("word") })
    }

    @Test("blank lines are kept, CRLF becomes LF and trailing spaces go")
    func lineStructure() {
        let text = "First paragraph.   \r\n\r\nSecond paragraph.\n\n\nThird.  \n"
        #expect(text.wrapped() == "First paragraph.\n\nSecond paragraph.\n\n\nThird.\n")
    }

    @Test("runs of spaces between words that stay together are kept")
    func innerSpaces() {
        #expect("a  b   c".wrapped() == "a  b   c")
        #expect("aaaa  bbbb".wrapped(toColumns: 5) == "aaaa\nbbbb")
    }

    @Test("a line that fits is the same whether it is short in bytes (the quick path) or only in columns")
    func fittingLines() {
        let lines = [
            "- a list item", "  12. numbered", "[3] cited", "李伟，你好！", "👍 more like this: https://example.org/f?t=1",
            "Ünïcödé ✓ text", "\u{00A0}no-break\u{00A0}spaces", "two  inner   spaces",
        ]
        for line in lines {
            let width = line.displayWidth
            // Enough columns for the width but fewer than the bytes: the full path, which must agree.
            if line.utf8.count > width {
                #expect(line.wrapped(toColumns: width) == line, "\(line)")
            }
            #expect(line.wrapped(toColumns: line.utf8.count) == line, "\(line)")
            #expect((line + "   ").wrapped(toColumns: line.utf8.count + 3) == line, "\(line)")
        }
        // A tab at the start of the text goes the full path, which drops it.
        #expect("\tindented".wrapped() == "indented")
    }

    @Test("no wrapping below one column")
    func zeroColumns() {
        #expect("a b c  ".wrapped(toColumns: 0) == "a b c")
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }

    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
