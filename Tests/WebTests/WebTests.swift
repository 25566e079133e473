import Curation
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PaperPostCore
import PaperPostStore
import Rendering
import TestSupport
import Testing
import Web
import struct Crypto.SymmetricKey

/// The web app over real HTTP on 127.0.0.1.
@Suite("The web app: health, unsubscribe links, archive")
struct WebTests {
    static let day = WebWorld.day
    static let oneClick = WebWorld.oneClick
    static let form = WebWorld.form

    @Test("/healthz answers, and every page carries the security headers", arguments: Backend.allCases)
    func health(backend: Backend) async throws {
        try await withWebApp(backend: backend) { _, client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok\n")
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            }
        }
    }

    @Test("a GET of the emailed unsubscribe link changes nothing and shows one button", arguments: Backend.allCases)
    func getChangesNothing(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            let token = try await world.token(.unsubscribe)
            try await client.execute(uri: "/unsubscribe?token=\(token)", method: .get) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                #expect(page.contains("<form method=\"post\" action=\"/unsubscribe?token=\(token)&amp;lang=zh\">"))
                #expect(page.contains("li***@example.com"))
                #expect(!page.contains("<script"))
            }
            #expect(try await world.store.get(try EmailAddress("li.wei@example.com")).status == .active)
        }
    }

    @Test("the one-click POST (RFC 8058) unsubscribes at once, without cookies, records source link, and is idempotent", arguments: Backend.allCases)
    func oneClick(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            let token = try await world.token(.unsubscribe)
            for _ in 0..<2 {
                try await client.execute(uri: "/unsubscribe?token=\(token)", method: .post, headers: Self.form, body: Self.oneClick) { response in
                    #expect(response.status == .ok)
                }
            }
            let subscriber = try await world.store.get(try EmailAddress("li.wei@example.com"))
            #expect(subscriber.status == .unsubscribed)
            let events = try await world.store.events(of: subscriber).filter { $0.kind == .unsubscribed }
            #expect(events.count == 1)
            #expect(events.first?.source == .link)
        }
    }

    @Test("tampered, wrong-purpose and revoked tokens, and a POST without the one-click body, change nothing", arguments: Backend.allCases)
    func badTokens(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            let good = try await world.token(.unsubscribe)
            let tampered = String(good.dropLast()) + (good.hasSuffix("A") ? "B" : "A")
            let wrongPurpose = try await world.token(.preferences)
            let revoked = try await world.token(.unsubscribe, secret: "an old secret")
            for token in [tampered, wrongPurpose, revoked, "garbage", ""] {
                try await client.execute(uri: "/unsubscribe?token=\(token)", method: .get) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("链接无效") || String(buffer: response.body).contains("not valid"))
                }
                try await client.execute(uri: "/unsubscribe?token=\(token)", method: .post, headers: Self.form, body: Self.oneClick) { response in
                    #expect(response.status == .badRequest)
                }
            }
            try await client.execute(uri: "/unsubscribe?token=\(good)", method: .post, headers: Self.form, body: ByteBuffer(string: "")) { response in
                #expect(response.status == .badRequest)
            }
            #expect(try await world.store.get(try EmailAddress("li.wei@example.com")).status == .active)
        }
    }

    @Test("after the secret is rotated, links signed with the old one work with PAPERPOST_SECRET_PREVIOUS and fail without it")
    func rotatedSecret() async throws {
        let rotated = "a-new-secret-of-well-over-thirty-two-bytes"
        try await withWebApp(configure: { $0.mail.secret = rotated }) { world, client in
            // `world.token` signs with the old secret, "web-secret", as the mailed links were.
            let old = try await world.token(.unsubscribe)
            try await client.execute(uri: "/unsubscribe?token=\(old)", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
        try await withWebApp(configure: { $0.mail.secret = rotated; $0.mail.previousSecrets = ["web-secret"] }) { world, client in
            let old = try await world.token(.unsubscribe)
            try await client.execute(uri: "/unsubscribe?token=\(old)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("<form method=\"post\""))
            }
            try await client.execute(uri: "/unsubscribe?token=\(old)", method: .post, headers: Self.form, body: Self.oneClick) { response in
                #expect(response.status == .ok)
            }
            #expect(try await world.store.get(try EmailAddress("li.wei@example.com")).status == .unsubscribed)
        }
    }

    @Test("the unsubscribe link's states: fresh asks, done offers an undo, again shows the state, undo restores, resubscribe confirms")
    func unsubscribeStates() async throws {
        try await withWebApp(configure: { $0.web.undoWindow = .seconds(3_600) }) { world, client in
            let token = try await world.token(.unsubscribe)
            let email = try EmailAddress("li.wei@example.com")
            try await client.execute(uri: "/unsubscribe?token=\(token)&lang=en", method: .get) { response in
                #expect(String(buffer: response.body).contains("Stop sending the ArXiv AI Daily to li***@example.com?"))
            }
            try await client.execute(uri: "/unsubscribe?token=\(token)&lang=en", method: .post, headers: Self.form, body: Self.oneClick) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("You are unsubscribed"))
                #expect(page.contains("action=\"/unsubscribe/undo?token=\(token)&amp;lang=en\""))
            }
            // The same link again: the state as it is, not the question.
            try await client.execute(uri: "/unsubscribe?token=\(token)&lang=en", method: .get) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("li***@example.com is unsubscribed"))
                #expect(!page.contains("Stop sending"))
                #expect(page.contains("/unsubscribe/undo?token="))
                #expect(page.contains("/resubscribe?token="))
            }
            try await client.execute(uri: "/unsubscribe/undo?token=\(token)&lang=en", method: .post) { response in
                #expect(String(buffer: response.body).contains("Undone"))
            }
            #expect(try await world.store.get(email).status == .active)

            // Unsubscribed again, then "Subscribe again": a confirmation mail, still unsubscribed until it is used.
            try await client.execute(uri: "/unsubscribe?token=\(token)&lang=en", method: .post, headers: Self.form, body: Self.oneClick) { _ in }
            try await client.execute(uri: "/resubscribe?token=\(token)&lang=en", method: .post) { response in
                #expect(String(buffer: response.body).contains("We sent a confirmation email to li***@example.com"))
            }
            #expect(try await world.store.get(email).status == .unsubscribed)
            #expect(try await world.mail(to: "li.wei@example.com").contains { $0.headers["Subject"]?.contains("确认") == true })
        }
        // Past the undo window the undo is refused, with the way back through confirmation.
        try await withWebApp(configure: { $0.web.undoWindow = .zero }) { world, client in
            let token = try await world.token(.unsubscribe)
            try await client.execute(uri: "/unsubscribe?token=\(token)&lang=en", method: .post, headers: Self.form, body: Self.oneClick) { _ in }
            try await client.execute(uri: "/unsubscribe/undo?token=\(token)&lang=en", method: .post) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("The time to undo has passed"))
                #expect(page.contains("/resubscribe?token="))
            }
            #expect(try await world.store.get(try EmailAddress("li.wei@example.com")).status == .unsubscribed)
        }
    }

    @Test("the email's 'read on the web' link opens the reader's own edition: the same papers, numbers and language; a tampered one is refused")
    func readerEdition() async throws {
        try await withWebApp { world, client in
            let digest = try #require(try await world.editions.digest(on: WebWorld.day))
            let identity = try #require(try await world.store.linkIdentity(id: world.li.id))
            let recipient = Recipient(
                subscriberID: world.li.id, email: "li.wei@example.com", name: "李伟", language: .zh, categories: ["cs.AI"],
                linkSecret: identity.secret)
            let composer = try EmailComposer(digest: digest, recipients: [recipient], settings: world.settings, serverSecret: WebWorld.serverSecret)
            var buffer: [UInt8] = []
            _ = try #require(composer.compose(for: recipient, date: MessageDate(), into: &buffer))
            let email = try InspectedMessage.inspect(buffer)
            let text = email.parts[0].text
            let url = try #require(text.split(separator: "\n").first { $0.contains("/edition/") }.map(String.init))
            let path = String(url.dropFirst(world.settings.baseURL.count))
            #expect(path.hasPrefix("/edition/\(WebWorld.day)?c=cs.AI&l=zh&s="))
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                #expect(page.contains("今日扫描/为你精选"))
                for entry in digest.edition(for: ["cs.AI"]).mustRead {
                    #expect(page.contains(entry.paper.title.htmlEscapedForTest), "\(entry.paper.title)")
                    #expect(email.parts[1].text.contains(entry.paper.title.htmlEscapedForTest))
                }
            }
            let tampered = path.replacingOccurrences(of: "l=zh", with: "l=en")
            try await client.execute(uri: tampered, method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("a reader ranked by their interests gets a link to their own edition, which shows the email's order and reason lines; weekly readers get the week's", arguments: Backend.allCases)
    func personalEditionLink(backend: Backend) async throws {
        let papers = (0..<3).map { number in
            Paper(
                id: "2602.0000\(number)", version: 1, title: "Paper \(number) about " + ["agents", "robots", "reward models"][number],
                abstract: "We study " + ["agents", "robots", "reward models"][number] + ". Experiments show gains.", authors: ["A"], categories: ["cs.AI"])
        }
        try await withWebApp(backend: backend, papers: papers) { world, client in
            _ = try await world.store.update(
                id: world.li.id, SubscriberChange(interests: [.interest: ["reward model"]], schedule: .weekly(weekday: WebWorld.day.weekday)),
                source: .cli)
            let store = world.editions
            let digest = try #require(try await store.digest(on: WebWorld.day))
            let week = try #require(try await store.week(endingOn: WebWorld.day))
            let reader = try #require(try await world.store.recipients().first { $0.subscriberID == world.li.id })
            let composer = try EmailComposer(
                digest: digest, week: week, recipients: [reader], settings: world.settings, serverSecret: WebWorld.serverSecret)
            var buffer: [UInt8] = []
            _ = try #require(composer.compose(for: reader, date: MessageDate(), into: &buffer))
            let text = try InspectedMessage.inspect(buffer).parts[0].text
            // It ranks first for li but has no summary (curation ran before li set the interest),
            // so it leads the table with its reason.
            #expect(text.contains("3. Paper 2 about reward models"))
            #expect(text.contains("🎯 符合你的兴趣：reward model"))
            let url = try #require(text.split(separator: "\n").first { $0.contains("/edition/") }.map { String($0).trimmingCharacters(in: .whitespaces) })
            let path = String(url.dropFirst(world.settings.baseURL.count))
            #expect(path.contains("&w=1&r=\(world.li.id)&s="))
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                #expect(page.contains("ArXiv AI 周报"))
                #expect(page.contains("符合你的兴趣：reward model"))
                let titles = ["Paper 0 about agents", "Paper 1 about robots", "Paper 2 about reward models"]
                func order(_ text: String) -> [String] { titles.sorted { text.range(of: $0)!.lowerBound < text.range(of: $1)!.lowerBound } }
                #expect(order(page) == order(text), "the email's order")
            }
            let otherReader = path.replacingOccurrences(of: "&r=\(world.li.id)", with: "&r=\(world.li.id + 1)")
            try await client.execute(uri: otherReader, method: .get) { #expect($0.status == .notFound) }
            let notWeekly = path.replacingOccurrences(of: "&w=1", with: "")
            try await client.execute(uri: notWeekly, method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test("the unsubscribe link in a real email works end to end", arguments: Backend.allCases)
    func linkFromEmail(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            let digest = try #require(try await world.editions.digest(on: Self.day))
            let recipient = try #require(try await world.store.recipients().first)
            let composer = try EmailComposer(
                digest: digest, recipients: [recipient], settings: world.settings, serverSecret: try ServerSecret.load(world.settings))
            var buffer: [UInt8] = []
            _ = try #require(composer.compose(for: recipient, date: MessageDate(), into: &buffer))
            let message = try InspectedMessage.inspect(buffer)
            let header = try #require(message.headers["List-Unsubscribe"])
            let url = try #require(header.split(separator: ",").first?.trimmingCharacters(in: CharacterSet(charactersIn: " <>")))
            let path = String(url.dropFirst("https://digest.example.org".count))
            try await client.execute(uri: path, method: .post, headers: Self.form, body: Self.oneClick) { response in
                #expect(response.status == .ok)
            }
            #expect(try await world.store.get(try EmailAddress("li.wei@example.com")).status == .unsubscribed)
        }
    }

    @Test("the archive lists the editions and shows each as a page, with untrusted text escaped", arguments: Backend.allCases)
    func archive(backend: Backend) async throws {
        try await withWebApp(backend: backend) { _, client in
            try await client.execute(uri: "/archive?lang=en", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("<a href=\"/archive/2026-02-20?lang=en\">2026-02-20</a>"))
            }
            try await client.execute(uri: "/archive/2026-02-20", method: .get, headers: [.acceptLanguage: "zh-CN,zh;q=0.9"]) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                #expect(page.contains("<h1>🧪 ArXiv AI 日报</h1>"))
                #expect(page.contains("Paper 0 | &lt;b&gt;bold&lt;/b&gt;"))
                #expect(!page.contains("<b>bold</b>"))
            }
            try await client.execute(uri: "/archive/2026-02-21", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("/feed.xml is an Atom feed of the editions that an XML parser accepts, with titles escaped", arguments: Backend.allCases)
    func feed(backend: Backend) async throws {
        try await withWebApp(backend: backend) { _, client in
            try await client.execute(uri: "/feed.xml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/atom+xml; charset=utf-8")
                let xml = String(buffer: response.body)
                #expect(xml.contains("<id>https://digest.example.org/archive/2026-02-20</id>"))
                #expect(xml.contains("Paper 0 | &lt;b&gt;bold&lt;/b&gt;"))
                let parser = XMLParser(data: Data(xml.utf8))
                #expect(parser.parse())
            }
        }
    }
}

extension String {
    /// As the pages and the HTML part escape titles.
    var htmlEscapedForTest: String {
        replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
