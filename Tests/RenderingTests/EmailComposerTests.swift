import struct Crypto.SymmetricKey
import Foundation
import PaperPostCore
@testable import Rendering
import TestSupport
import Testing

@Suite("Personal emails")
struct EmailComposerTests {
    static let secret = SymmetricKey(data: Data("server-secret-for-tests-0123456789abcdef".utf8))
    static let settings = Settings(
        baseURL: "https://digest.example.org", templatesDirectory: DigestMarkdownTests.templates,
        mail: MailSettings(
            from: try! Mailbox(parsing: "PaperPost 日报 <digest@example.org>"),
            unsubscribeMailto: try! EmailAddress("unsubscribe@example.org")))

    static let li = Recipient(subscriberID: 7, email: "li.wei@example.com", name: "李伟", language: .zh, categories: ["cs.AI", "cs.LG"], linkSecret: "li-secret")
    static let ada = Recipient(subscriberID: 8, email: "ada@example.org", name: "Lovelace, Ada", language: .en, categories: ["cs.CL"], linkSecret: "ada-secret")
    static let vision = Recipient(subscriberID: 9, email: "cv@example.net", name: nil, language: .zh, categories: ["cs.CV"], linkSecret: "cv-secret")

    static func digest() -> Digest {
        var digest = ReferenceDigest.digest()
        digest.languages = [.zh, .en]
        digest.entries = digest.entries.map { entry in
            var entry = entry
            entry.reasons[.en] = "Worth it: \(entry.paper.title)."
            if let zh = entry.summaries[.zh] {
                entry.summaries[.en] = Summary(
                    title: entry.paper.title, background: "Background of \(entry.paper.id).", innovation: "Innovation.",
                    details: "Details.", results: "Results.", source: .llm)
                _ = zh
            }
            return entry
        }
        return digest
    }

    /// The composer and the message's bytes, or `nil` bytes when the reader gets no email.
    func compose(_ recipient: Recipient, digest: Digest = EmailComposerTests.digest()) throws -> (EmailComposer, Message?) {
        let composer = try EmailComposer(digest: digest, recipients: [recipient], settings: Self.settings, serverSecret: Self.secret)
        var buffer: [UInt8] = []
        let date = MessageDate(Date(timeIntervalSince1970: 1_771_660_800))
        return (composer, composer.compose(for: recipient, date: date, into: &buffer).map { _ in Message(bytes: buffer) })
    }

    struct Message {
        var bytes: [UInt8]
    }

    @Test("a reader's interests reorder their email: the matching paper comes first among the picks with the reason, muted papers are gone")
    func personalEdition() throws {
        var li = Self.li
        li.interests = try ReaderInterests(interests: ["time series"], muted: ["diffusion"])
        let email = try #require(try compose(li).1)
        let message = try InspectedMessage.inspect(email.bytes)
        #expect(message.defects.isEmpty)
        let text = message.parts[0].text
        let html = message.parts[1].text
        // Reverso has no summary, so it leads the table after the two summarised must-reads.
        let reverso = try #require(text.range(of: "3. Reverso"))
        #expect(text.range(of: "1. KLong") != nil && text.range(of: "2. MASPO") != nil)
        #expect(text[reverso.upperBound...].prefix(300).contains("🎯 符合你的兴趣：time series"))
        #expect(html.contains("<em>符合你的兴趣：time series</em>"))
        #expect(!text.contains("MolHIT") && !html.contains("MolHIT"), "muted: diffusion")
        #expect(!text.contains("Sink-Aware"), "not in li's categories anyway")
        #expect(message.headers["Subject"]?.contains("9 篇精选") == true, "still nine picks")
        #expect(text.contains("9. Filler 2"), "the next paper in li's categories takes the muted one's place")
    }

    @Test("under every paper, in both parts, a 'more like this' and a 'less like this' link signed for this reader, paper and vote")
    func feedbackLinks() throws {
        let email = try #require(try compose(Self.li).1)
        let message = try InspectedMessage.inspect(email.bytes)
        let text = message.parts[0].text
        let html = message.parts[1].text
        let pattern = /https:\/\/digest\.example\.org\/feedback\?token=([A-Za-z0-9._-]+)/
        let textTokens = text.matches(of: pattern).map { String($0.output.1) }
        let htmlTokens = html.matches(of: pattern).map { String($0.output.1) }
        #expect(textTokens.count == 18, "two per pick, nine picks")
        #expect(Set(htmlTokens) == Set(textTokens))
        var subjects: [String] = []
        for token in textTokens {
            let claims = try LinkToken.verify(
                token, purpose: .feedback, serverSecret: Self.secret, subscriberSecret: "li-secret", now: Date(timeIntervalSince1970: 1_771_660_800))
            #expect(claims.subscriberID == 7)
            #expect(claims.expires > 1_771_660_800 + 170 * 86_400, "they work for months")
            subjects.append(claims.subject ?? "")
        }
        #expect(subjects.prefix(2) == ["2602.17547 up", "2602.17547 down"])
        #expect(text.trimmingTrailingSpacesPerLine.contains("👍 多推荐这类:\nhttps://digest.example.org/feedback?token="))
        #expect(html.contains(#">多推荐这类</a>"#))
        #expect(!html.contains("paperpost-slot") && !text.contains("paperpost-slot"))
        #expect(!text.unicodeScalars.contains("\u{E000}") && !html.unicodeScalars.contains("\u{E000}"))
        // The preview shows the same links.
        let composer = try EmailComposer(digest: Self.digest(), recipients: [Self.li], settings: Self.settings, serverSecret: Self.secret)
        #expect(composer.previewText(for: Self.li)?.contains("👍 多推荐这类:\nhttps://digest.example.org/feedback?token=f.7.") == true)
    }

    @Test("readers without interests share their categories' edition; only readers whose interests change it get their own")
    func sharedEditions() throws {
        var focused = Self.li
        focused.subscriberID = 70
        focused.interests = try ReaderInterests(interests: ["reward modeling"])
        let plain = Recipient(subscriberID: 71, email: "b@example.com", name: nil, language: .zh, categories: ["cs.LG", "cs.AI"], linkSecret: "b")
        let composer = try EmailComposer(
            digest: Self.digest(), recipients: [Self.li, plain, focused], settings: Self.settings, serverSecret: Self.secret)
        #expect(composer.layout(for: Self.li)?.key == composer.layout(for: plain)?.key)
        #expect(composer.layout(for: Self.li)?.key.personal == nil)
        #expect(composer.layout(for: focused)?.key.personal != nil)
        var buffer: [UInt8] = []
        let date = MessageDate(Date(timeIntervalSince1970: 1_771_660_800))
        _ = composer.compose(for: Self.li, date: date, into: &buffer)
        let liText = try InspectedMessage.inspect(buffer).parts[0].text
        _ = composer.compose(for: plain, date: date, into: &buffer)
        let plainText = try InspectedMessage.inspect(buffer).parts[0].text
        #expect(!liText.contains("🎯"))
        #expect(liText.components(separatedBy: "\n").filter { $0.hasPrefix("**") } == plainText.components(separatedBy: "\n").filter { $0.hasPrefix("**") })
        _ = composer.compose(for: focused, date: date, into: &buffer)
        let focusedText = try InspectedMessage.inspect(buffer).parts[0].text
        #expect(focusedText.contains("3. MARS"))
        #expect(focusedText.contains("🎯 符合你的兴趣：reward modeling"))
    }

    @Test("a Chinese reader's email parses without defects; both parts and every header decode to the original text")
    func chineseEmail() throws {
        let email = try #require(try compose(Self.li).1)
        let message = try InspectedMessage.inspect(email.bytes)
        #expect(message.defects.isEmpty)
        #expect(message.content_type == "multipart/alternative")
        #expect(message.parts.map(\.content_type) == ["text/plain", "text/html"])
        #expect(message.parts.allSatisfy { $0.charset == "utf-8" })
        #expect(message.parts[0].transfer_encoding == "base64")
        #expect(message.headers["From"] == "PaperPost 日报 <digest@example.org>")
        #expect(message.headers["To"] == "李伟 <li.wei@example.com>")
        #expect(message.headers["Subject"] == "ArXiv AI 日报 2026-02-21 周六｜9 篇精选：KLong: Training LLM Agent for Extremely…")
        #expect(message.headers["Date"] == "Sat, 21 Feb 2026 08:00:00 +0000")
        #expect(message.headers["MIME-Version"] == "1.0")
        #expect(message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click")
        #expect(message.headers["List-Id"] == "PaperPost arXiv digest <arxiv-digest.digest.example.org>")
        let messageID = try #require(message.headers["Message-ID"])
        #expect(messageID.hasPrefix("<2026-02-21.7.") && messageID.hasSuffix("@example.org>"))
        #expect(message.bare_line_feeds == 0 && message.bare_carriage_returns == 0)
        #expect(message.longest_line <= 998)

        // Base64 regions are padded with trailing spaces, which readers do not see.
        let text = message.parts[0].text.trimmingTrailingSpacesPerLine
        #expect(text.hasPrefix("李伟，你好！\n"))
        #expect(text.contains("1. KLong: Training LLM Agent for Extremely Long-horizon Tasks"))
        #expect(text.contains("https://arxiv.org/abs/2602.17547v1"))
        #expect(!text.contains("|:-:|"))
        #expect(text.split(separator: "\n").allSatisfy { String($0).displayWidth <= 78 || !$0.contains(" ") })
        let html = message.parts[1].text
        #expect(html.contains("<p style=\"margin:0 0 16px;\">李伟，你好！</p>"))
        #expect(html.contains("<table style=\"width:100%;"))
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"))
    }

    @Test("an English reader gets English, quoted-printable parts, and a quoted display name")
    func englishEmail() throws {
        let email = try #require(try compose(Self.ada).1)
        let message = try InspectedMessage.inspect(email.bytes)
        #expect(message.defects.isEmpty)
        #expect(message.headers["To"] == "\"Lovelace, Ada\" <ada@example.org>")
        #expect(message.parts[0].transfer_encoding == "quoted-printable")
        #expect(message.parts[1].transfer_encoding == "quoted-printable")
        #expect(message.parts[0].text.trimmingTrailingSpacesPerLine.hasPrefix("Hi Lovelace, Ada,\n"))
        #expect(message.parts[0].text.contains("You subscribed to: cs.CL (Computation and Language)"))
        #expect(message.lines_over_78 <= 2, "only the folded List-Unsubscribe URLs may pass 78 columns")
    }

    @Test("the footer says who sends it and from where, replies go to Reply-To, the preheader names the must-reads, and the text footer wraps at 78")
    func footerAndPreheader() throws {
        var settings = Self.settings
        settings.mail.postalAddress = "PaperPost Lab, 1 Example Road, 100000 Beijing"
        settings.mail.replyTo = try EmailAddress("editor@example.org")
        let many = Recipient(
            subscriberID: 10, email: "many@example.org", name: nil, language: .en,
            categories: ["cs.AI", "cs.CL", "cs.LG", "stat.ML", "cs.CV"], linkSecret: "many-secret")
        let digest = Self.digest()
        let composer = try EmailComposer(digest: digest, recipients: [many], settings: settings, serverSecret: Self.secret)
        var buffer: [UInt8] = []
        _ = try #require(composer.compose(for: many, date: MessageDate(Date(timeIntervalSince1970: 1_771_660_800)), into: &buffer))
        let message = try InspectedMessage.inspect(buffer)
        #expect(message.defects.isEmpty)
        #expect(message.headers["Reply-To"] == "editor@example.org")
        let text = message.parts[0].text
        #expect(text.contains("PaperPost 日报 · PaperPost Lab, 1 Example Road, 100000 Beijing"))
        #expect(text.contains("Machine Learning (Statistics)"))
        let footer = text.components(separatedBy: "\n-- \n").last ?? ""
        #expect(footer.split(separator: "\n").allSatisfy { $0.count <= 78 || !$0.contains(" ") }, "\(footer)")
        let html = message.parts[1].text
        #expect(html.contains("PaperPost Lab, 1 Example Road"))
        let (mustRead, _) = digest.edition(for: many.categories)
        let hidden = try #require(html.range(of: "display:none;max-height:0;overflow:hidden;\">").map { html[$0.upperBound...] })
        let preheader = hidden.prefix { $0 != "<" }
        for entry in mustRead.prefix(2) {
            #expect(preheader.contains(String(entry.paper.title.prefix(20))), "\(preheader)")
        }
    }

    @Test("each reader's email holds only their categories; a reader with none of today's papers gets none")
    func onlyTheirCategories() throws {
        let (composer, email) = try compose(Self.ada)
        let message = try InspectedMessage.inspect(try #require(email).bytes)
        let text = message.parts[0].text
        #expect(text.contains("1. Sink-Aware Pruning for Diffusion Language Models"))
        #expect(text.contains("2. Modeling Distinct Human Interaction in Web Agents"))
        #expect(!text.contains("KLong") && !text.contains("MARS"))
        #expect(composer.hasEdition(for: Self.ada))

        let (visionComposer, visionEmail) = try compose(Self.vision)
        #expect(visionEmail == nil)
        #expect(!visionComposer.hasEdition(for: Self.vision))
    }

    @Test("the unsubscribe link's token verifies; tampered, rotated or wrong-purpose tokens do not")
    func tokens() throws {
        let message = try InspectedMessage.inspect(try #require(try compose(Self.li).1).bytes)
        let header = try #require(message.headers["List-Unsubscribe"])
        let url = try #require(header.split(separator: ",").first?.trimmingCharacters(in: CharacterSet(charactersIn: " <>")))
        #expect(url.hasPrefix("https://digest.example.org/unsubscribe?token=u.7.0."))
        #expect(header.contains("<mailto:unsubscribe@example.org?subject=unsubscribe%20u.7.0."))
        let token = String(try #require(url.split(separator: "=", maxSplits: 1).last))
        #expect(try LinkToken.verify(token, purpose: .unsubscribe, serverSecret: Self.secret, subscriberSecret: "li-secret").subscriberID == 7)
        #expect(message.parts[1].text.contains(url.replacingOccurrences(of: "&", with: "&amp;")))

        var tampered = Array(token)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == "A" ? "B" : "A"
        #expect(throws: LinkToken.Rejection.badSignature) {
            try LinkToken.verify(String(tampered), purpose: .unsubscribe, serverSecret: Self.secret, subscriberSecret: "li-secret")
        }
        let otherSubscriber = token.replacingOccurrences(of: "u.7.", with: "u.8.")
        #expect(throws: LinkToken.Rejection.badSignature) {
            try LinkToken.verify(otherSubscriber, purpose: .unsubscribe, serverSecret: Self.secret, subscriberSecret: "li-secret")
        }
        #expect(throws: LinkToken.Rejection.badSignature) {
            try LinkToken.verify(token, purpose: .unsubscribe, serverSecret: Self.secret, subscriberSecret: "rotated")
        }
        #expect(throws: LinkToken.Rejection.wrongPurpose) {
            try LinkToken.verify(token, purpose: .preferences, serverSecret: Self.secret, subscriberSecret: "li-secret")
        }
        let confirm = LinkToken(purpose: .confirm, subscriberID: 7, expires: Date(timeIntervalSince1970: 1000))
            .signed(serverSecret: Self.secret, subscriberSecret: "li-secret")
        #expect(throws: LinkToken.Rejection.expired) {
            try LinkToken.verify(confirm, purpose: .confirm, serverSecret: Self.secret, subscriberSecret: "li-secret")
        }
        #expect(throws: LinkToken.Rejection.malformed) {
            try LinkToken.verify("garbage", purpose: .unsubscribe, serverSecret: Self.secret, subscriberSecret: "li-secret")
        }
        // The last character of a 32-byte signature has two unused bits: flipping them keeps the
        // bytes, but only the canonical spelling is accepted.
        let last = token.last!
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let twin = alphabet[alphabet.firstIndex(of: last)! ^ 1]
        #expect(throws: LinkToken.Rejection.malformed) {
            try LinkToken.verify(String(token.dropLast()) + String(twin), purpose: .unsubscribe, serverSecret: Self.secret, subscriberSecret: "li-secret")
        }
    }

    @Test("no header can be injected through a name, and hostile titles stay inert in both parts")
    func injection() throws {
        var eve = Self.li
        eve.name = "Eve\r\nBcc: victim@example.org"
        var digest = Self.digest()
        digest.entries[0].paper.title = "Evil\r\nBcc: x@example.org <script>alert(1)</script> | pipe"
        let message = try InspectedMessage.inspect(try #require(try compose(eve, digest: digest).1).bytes)
        #expect(message.defects.isEmpty)
        #expect(message.headers["Bcc"] == nil)
        #expect(message.headers["To"] == "\"Eve  Bcc: victim@example.org\" <li.wei@example.com>")
        #expect(!message.headers.keys.contains { $0.lowercased() == "bcc" })
        // The word joiner (U+2060) in the address keeps mail clients from linkifying it.
        #expect(message.parts[0].text.contains("Evil Bcc: x@example\u{2060}.org <script>alert(1)</script> | pipe"))
        #expect(!message.parts[1].text.contains("<script>"))
    }

    @Test("labels for original English text, the mixed-mode banner and the digest's notes reach both parts, in the reader's language")
    func labelsAndNotes() throws {
        var digest = Self.digest()
        digest.mode = .mixed
        digest.notes = ["the model could not be reached for 1 paper(s), curated by the heuristic (2602.17664)"]
        digest.entries[0].summaries[.zh]?.results = "We gain 11.28 points."
        digest.entries[0].summaries[.zh]?.originalFields = [.results]
        digest.entries[3].summaries[.en] = Summary(
            title: digest.entries[3].paper.title, background: "Pruning matters.", innovation: "Sink-aware pruning.", details: "Details.",
            results: "Faster.", source: .heuristic)

        let li = try InspectedMessage.inspect(try #require(try compose(Self.li, digest: digest).1).bytes)
        let liText = li.parts[0].text.trimmingTrailingSpacesPerLine
        let liHTML = li.parts[1].text
        #expect(liText.contains("实验结果 「原文」: We gain 11.28 points.\n"))
        #expect(liText.contains("背景与痛点: 现有大模型智能体多针对普通长周期任务设计。\n"))
        #expect(liHTML.contains("<strong>实验结果</strong> 「原文」: We gain 11.28 points."))
        for part in [liText, liHTML] {
            #expect(part.contains("⚙️ 混合模式"))
            #expect(part.contains("ℹ️ 本期说明（运行记录，英文）"))
            // The text part wraps the line at 78 columns.
            #expect(part.contains("the model could not be reached for 1 paper(s), curated by the"))
            #expect(part.contains("(2602.17664)"))
        }

        let ada = try InspectedMessage.inspect(try #require(try compose(Self.ada, digest: digest).1).bytes)
        let adaText = ada.parts[0].text
        let adaHTML = ada.parts[1].text
        #expect(adaText.contains("Background (original): Pruning matters."))
        #expect(adaHTML.contains("<strong>Results</strong> (original): Faster."))
        for part in [adaText, adaHTML] {
            #expect(part.contains("⚙️ Mixed mode"))
            #expect(part.contains("ℹ️ Notes on this edition"))
            #expect(part.contains("the model could not be reached for 1 paper(s)"))
        }
    }

    @Test("encoding a body region by region gives the same bytes as encoding it whole", arguments: [TransferEncoding.base64, .quotedPrintable])
    func splicingIsExact(encoding: TransferEncoding) {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["李伟，你好！", "plain ascii words", "=equals= and trailing space ", "\t", "🔥 emoji", String(repeating: "长", count: 50), String(repeating: "x", count: 90)]
        for _ in 0..<50 {
            var lines: [String] = []
            for _ in 0..<Int.random(in: 1...30, using: &generator) {
                var line = (0..<Int.random(in: 0...4, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
                if Int.random(in: 0..<5, using: &generator) == 0 { line += SlotMarker.marker(.greeting) + pieces.randomElement(using: &generator)! }
                lines.append(line)
            }
            let template = lines.joined(separator: "\n") + (Bool.random(using: &generator) ? "\n" : "")
            let name = pieces.randomElement(using: &generator)!
            var spliced: [UInt8] = []
            var slots = ReaderSlots(
                greeting: name, unsubscribeURL: "", preferencesURL: "", editionURL: "", feedbackBase: ReaderSlots.feedbackBase(""),
                feedback: LinkToken.SubjectSigner(purpose: .feedback, subscriberID: 1, expires: nil, serverSecret: Self.secret, subscriberSecret: "x"))
            SplicedBody(template, encoding: encoding).write(into: &spliced, slots: &slots, html: false)
            let filled = template.replacingOccurrences(of: SlotMarker.marker(.greeting), with: name)
            let decodedSpliced = Self.decode(spliced, encoding)
            #expect(decodedSpliced.trimmingTrailingSpacesPerLine == Self.crlf(filled).trimmingTrailingSpacesPerLine)
            #expect(String(decoding: spliced, as: UTF8.self).split(separator: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        }
    }

    @Test("bodies joined into one write the bytes they write one after another", arguments: [TransferEncoding.base64, .quotedPrintable])
    func joiningIsExact(encoding: TransferEncoding) {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["李伟，你好！", "plain ascii words", "=equals= and trailing space ", "🔥 emoji", String(repeating: "x", count: 90)]
        let slots = [
            SlotMarker.marker(.greeting), SlotMarker.marker(.feedback(paper: "2602.00001", vote: .up)),
            SlotMarker.marker(.feedback(paper: "2602.00002", vote: .down)), SlotMarker.marker(.unsubscribeURL),
            SlotMarker.marker(.why(paper: "2602.00001")), SlotMarker.marker(.why(paper: "2602.00002")),
        ]
        let signer = LinkToken.SubjectSigner(purpose: .feedback, subscriberID: 7, expires: nil, serverSecret: Self.secret, subscriberSecret: "x")
        for _ in 0..<30 {
            let count = Int.random(in: 1...6, using: &generator)
            let bodies = (0..<count).map { index in
                let lines = (0..<Int.random(in: 1...8, using: &generator)).map { _ in
                    var line = pieces.randomElement(using: &generator)!
                    if Bool.random(using: &generator) { line += slots.randomElement(using: &generator)! + pieces.randomElement(using: &generator)! }
                    return line
                }
                return SplicedBody(lines.joined(separator: "\n") + "\n", encoding: encoding, isFinal: index == count - 1)
            }
            func readerSlots() -> ReaderSlots {
                ReaderSlots(
                    greeting: "Ada", unsubscribeURL: "https://example.com/u?token=a&b", preferencesURL: "", editionURL: "",
                    reasons: ["2602.00001": "matches your interest: <RLHF>"], feedbackBase: ReaderSlots.feedbackBase("https://example.com/feedback?token="), feedback: signer)
            }
            var separate: [UInt8] = []
            var separateSlots = readerSlots()
            for body in bodies { body.write(into: &separate, slots: &separateSlots, html: true) }
            var joined: [UInt8] = []
            var joinedSlots = readerSlots()
            let whole = SplicedBody(joining: bodies)
            whole.write(into: &joined, slots: &joinedSlots, html: true)
            #expect(joined == separate)
            #expect(!separate.isEmpty)
            #expect(whole.regions.count <= bodies.map(\.regions.count).reduce(0, +))
        }
    }

    static func crlf(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: "\r\n")
    }

    static func decode(_ bytes: [UInt8], _ encoding: TransferEncoding) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        switch encoding {
        case .base64:
            return String(decoding: Data(base64Encoded: text.replacingOccurrences(of: "\r\n", with: "")) ?? Data(), as: UTF8.self)
        case .quotedPrintable:
            var output: [UInt8] = []
            let raw = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
            var index = 0
            while index < raw.count {
                if raw[index] == UInt8(ascii: "="), index + 2 < raw.count, let byte = UInt8(String(decoding: raw[index + 1...index + 2], as: UTF8.self), radix: 16) {
                    output.append(byte)
                    index += 3
                } else {
                    output.append(raw[index])
                    index += 1
                }
            }
            return String(decoding: output, as: UTF8.self)
        }
    }
}

extension String {
    /// Base64 regions are padded with trailing spaces; readers do not see them.
    var trimmingTrailingSpacesPerLine: String {
        components(separatedBy: contains("\r\n") ? "\r\n" : "\n").map { line in
            var line = line
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: contains("\r\n") ? "\r\n" : "\n")
    }
}

@Suite("Emails put together from shared pieces")
struct EditionPiecesTests {
    /// The MARS paper's abstract names a long interest, so the reason line is longer than a line.
    static func digest() -> Digest {
        var digest = EmailComposerTests.digest()
        let index = digest.entries.firstIndex { $0.paper.title.hasPrefix("MARS") }!
        digest.entries[index].paper.abstract += " " + longInterest + "."
        return digest
    }

    static let longInterest = "margin aware reward modeling with self refinement for robust preference learning in language models"

    static func readers() throws -> [Recipient] {
        var focused = EmailComposerTests.ada
        focused.subscriberID = 80
        focused.categories = ["cs.AI", "cs.LG", "cs.CL"]
        focused.interests = try ReaderInterests(interests: [longInterest, "time series"], muted: ["diffusion"])
        var weeklyless = EmailComposerTests.li
        weeklyless.subscriberID = 81
        weeklyless.interests = try ReaderInterests(interests: ["reward modeling"])
        return [EmailComposerTests.li, EmailComposerTests.ada, EmailComposerTests.vision, focused, weeklyless]
    }

    @Test("each reader's pieces put together are the edition the templates render whole for them, in both parts")
    func piecesMakeTheWholeEdition() throws {
        let digest = Self.digest()
        let readers = try Self.readers()
        let composer = try EmailComposer(digest: digest, recipients: readers, settings: EmailComposerTests.settings, serverSecret: EmailComposerTests.secret)
        let markdown = try DigestMarkdown(templatesDirectory: EmailComposerTests.settings.templatesDirectory)
        var personal = 0
        for reader in readers {
            guard let layout = composer.layout(for: reader) else {
                #expect(reader.categories == ["cs.CV"], "only the vision reader has no papers today")
                continue
            }
            let key = layout.key
            let edition = key.personal.map { DigestMarkdown.entries(of: $0, in: digest) } ?? digest.edition(for: key.categories)
            func item(_ entry: DigestEntry, _ rank: Int) -> DigestMarkdown.Item {
                DigestMarkdown.Item(
                    entry: entry, rank: rank, readerCategories: key.categories,
                    why: key.personal?.reasons[entry.paper.id] == nil ? nil : Slot.placeholder(.why(paper: entry.paper.id)))
            }
            let whole = EditionPieces.parts(
                markdown, digest, language: key.language, categories: key.categories, picked: edition.mustRead.count + edition.more.count,
                mustRead: edition.mustRead.enumerated().map { item($1, $0 + 1) },
                more: edition.more.enumerated().map { item($1, edition.mustRead.count + $0 + 1) }, cut: false)
            let pieces = EmailComposer.pieces(of: layout)
            #expect(pieces.map(\.htmlSource).joined().contains(whole.html), "\(reader.email)")
            // The whole rendering has a blank line where each cut marker would be.
            func paragraphs(_ text: String) -> [String] {
                text.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .newlines) }.filter { !$0.isEmpty }
            }
            let assembled = paragraphs(pieces.map(\.textSource).joined())
            let expected = paragraphs(whole.text)
            let start = try #require(assembled.firstIndex(of: expected[0]), "\(reader.email)")
            #expect(Array(assembled[start..<min(assembled.count, start + expected.count)]) == expected, "\(reader.email)")
            if key.personal != nil { personal += 1 }
        }
        #expect(personal == 2)
    }

    @Test("a reason line longer than a line is wrapped at 78 columns in the plain-text part once the reader's words are in")
    func longReasonIsWrapped() throws {
        let reader = try Self.readers()[3]
        let composer = try EmailComposer(digest: Self.digest(), recipients: [reader], settings: EmailComposerTests.settings, serverSecret: EmailComposerTests.secret)
        var buffer: [UInt8] = []
        _ = try #require(composer.compose(for: reader, date: MessageDate(Date(timeIntervalSince1970: 1_771_660_800)), into: &buffer))
        let text = try InspectedMessage.inspect(buffer).parts[0].text
        #expect(text.contains("🎯 matches your interest: margin aware reward modeling"))
        #expect(text.contains("robust preference learning in language models"))
        let long = text.split(separator: "\n").filter { String($0).displayWidth > 78 && !$0.contains("https://") }
        #expect(long.isEmpty, "\(long)")
    }
}

extension EditionPiecesTests {
    @Test("a digest template from PAPERPOST_TEMPLATES without cut markers is refused, naming the file, before any message")
    func templateWithoutCutMarkers() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paperpost-templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try String(contentsOfFile: DigestMarkdownTests.templates + "/digest.md.mustache", encoding: .utf8)
        let old = original.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("{{{cut}}}") && !$0.contains("_end}}}") }
        try old.joined(separator: "\n").write(to: directory.appendingPathComponent("digest.md.mustache"), atomically: true, encoding: .utf8)
        var settings = EmailComposerTests.settings
        settings.templatesDirectory = directory.path
        #expect {
            _ = try EmailComposer(digest: Self.digest(), recipients: [EmailComposerTests.li], settings: settings, serverSecret: EmailComposerTests.secret)
        } throws: { error in
            "\(error)".contains(directory.appendingPathComponent("digest.md.mustache").path) && "\(error)".contains("{{{cut}}}")
        }
    }
}

extension EditionPiecesTests {
    @Test("whether a reader gets an email: their categories decide, unless muted phrases take away every paper")
    func hasEdition() throws {
        var interested = EmailComposerTests.li
        interested.interests = try ReaderInterests(interests: ["reward modeling"])
        let digest = Self.digest()
        // A word of each cs.CL paper's title, muted, leaves that reader nothing.
        var mutedAll = EmailComposerTests.ada
        let titleWords = digest.entries.filter { $0.paper.categories.contains("cs.CL") }
            .map { String($0.paper.title.prefix { $0.isLetter }) }
        try #require(!titleWords.isEmpty)
        mutedAll.interests = try ReaderInterests(muted: Array(Set(titleWords)))
        let composer = try EmailComposer(
            digest: digest, recipients: [interested, mutedAll, EmailComposerTests.vision], settings: EmailComposerTests.settings,
            serverSecret: EmailComposerTests.secret)
        #expect(composer.hasEdition(for: interested))
        #expect(!composer.hasEdition(for: EmailComposerTests.vision))
        #expect(!composer.hasEdition(for: mutedAll))
        var unmuted = mutedAll
        unmuted.interests = try ReaderInterests()
        #expect(composer.hasEdition(for: unmuted))
    }
}
