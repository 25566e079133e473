import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Mail
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// Subscribing with double opt-in, over live HTTP, with notices delivered to aiosmtpd.
@Suite("The web app: subscribe and confirm")
struct SubscriptionTests {
    static func signUp(_ email: String, name: String = "", categories: [String] = ["cs.CL", "cs.CV"], language: String = "en", csrf: String?)
        -> [(String, String)]
    {
        var fields = [("email", email), ("name", name), ("language", language)]
        fields += categories.map { ("category[]", $0) }
        if let csrf { fields.append(("csrf", csrf)) }
        return fields
    }

    @Test("the home page explains, shows the latest edition and a form with the defaults ticked, and sets the CSRF cookie")
    func home() async throws {
        try await withWebApp { _, client in
            var browser = Browser(client)
            let page = try await browser.get("/?lang=en")
            #expect(page.status == .ok)
            #expect(page.cookie?.hasPrefix("paperpost_csrf=") == true)
            #expect(page.headers[.setCookie]?.contains("HttpOnly") == true)
            #expect(page.headers[.setCookie]?.contains("SameSite=Lax") == true)
            #expect(page.headers[.setCookie]?.contains("Secure") == true)
            #expect(page.csrf != nil)
            #expect(page.body.contains(#"<input type="checkbox" name="category[]" value="cs.AI" checked>"#))
            #expect(page.body.contains(#"<input type="checkbox" name="category[]" value="cs.CV">"#))
            #expect(page.body.contains("Latest edition: 2026-02-20"))
            #expect(page.body.contains("Paper 0 | &lt;b&gt;bold&lt;/b&gt;"))
            #expect(!page.body.contains("<script"))
            let second = try await browser.get("/?lang=zh")
            #expect(second.cookie == nil, "a browser that has the cookie keeps it")
            #expect(second.body.contains("订阅"))
        }
    }

    @Test("with a bounce address, the confirmation's envelope sender is a return path naming the new subscriber", arguments: Backend.allCases)
    func confirmationReturnPath(backend: Backend) async throws {
        try await withWebApp(backend: backend, configure: { $0.delivery.bounceAddress = try! EmailAddress("bounces@example.org") }) { world, client in
            var browser = Browser(client)
            let home = try await browser.get("/?lang=en")
            _ = try await browser.post("/subscribe?lang=en", Self.signUp("ada@example.net", csrf: home.csrf))
            let pending = try #require(try await world.subscriber("ada@example.net"))
            let received = try #require(try await world.smtp.messages().first { $0.rcptTos == ["ada@example.net"] })
            let path = ReturnPath.parse(received.mailFrom, base: try EmailAddress("bounces@example.org"), key: WebWorld.serverSecret)
            #expect(path?.subscriberID == pending.id, "\(received.mailFrom)")
        }
    }

    @Test("with DKIM configured, the confirmation is signed and dkimpy verifies it", arguments: Backend.allCases)
    func signedConfirmation(backend: Backend) async throws {
        let keys = try TemporaryDirectory.make(prefix: "dkim")
        defer { try? FileManager.default.removeItem(at: keys) }
        let written = try DKIMKeyGenerator.generate(selector: "web", directory: keys.path, ed25519: false)
        let dkim = DKIMSettings(keyFile: written[0].path, selector: "web")
        try await withWebApp(backend: backend, configure: { $0.mail.dkim = dkim }) { world, client in
            var browser = Browser(client)
            let home = try await browser.get("/?lang=en")
            _ = try await browser.post("/subscribe?lang=en", Self.signUp("ada@example.net", csrf: home.csrf))
            let received = try #require(try await world.smtp.messages().first { $0.rcptTos == ["ada@example.net"] })
            let signer = try DKIMSigner(settings: dkim, from: world.settings.mail.from.address)
            let verdict = try DKIMVerdict.check(Array(received.data), records: signer.dnsRecords)
            #expect(verdict.signatures.map(\.valid) == [true])
        }
    }

    @Test("subscribe, receive the confirmation at the SMTP server, GET its link (nothing changes), POST confirms, then preferences", arguments: Backend.allCases)
    func doubleOptIn(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            var browser = Browser(client)
            let home = try await browser.get("/?lang=en")
            let answer = try await browser.post(
                "/subscribe?lang=en", Self.signUp("ada@example.net", name: "Ada <Lovelace>", csrf: home.csrf))
            #expect(answer.status == .ok)
            #expect(answer.body.contains("Check your inbox"))
            #expect(answer.body.contains("ad***@example.net"))
            let pending = try #require(try await world.subscriber("ada@example.net"))
            #expect(pending.status == .pending)
            #expect(pending.categories == ["cs.CL", "cs.CV"])
            #expect(pending.language == .en)
            #expect(pending.name == "Ada <Lovelace>")

            let received = try await world.smtp.messages().filter { $0.rcptTos == ["ada@example.net"] }
            #expect(received.count == 1)
            #expect(received.first?.mailFrom == "digest@example.org")
            let mail = try #require(try await world.mail(to: "ada@example.net").first)
            #expect(mail.defects.isEmpty)
            #expect(mail.headers["Subject"] == "Please confirm your subscription to the ArXiv AI Daily")
            #expect(mail.headers["Auto-Submitted"] == "auto-generated")
            #expect(mail.headers["To"]?.contains("ada@example.net") == true)
            let text = try #require(mail.parts.first { $0.content_type == "text/plain" }?.text)
            let html = try #require(mail.parts.first { $0.content_type == "text/html" }?.text)
            let link = try #require(text.link("confirm"))
            #expect(html.contains("https://digest.example.org\(link)"))

            var phone = Browser(client)
            let confirmPage = try await phone.get(link)
            #expect(confirmPage.status == .ok)
            #expect(confirmPage.body.contains("Confirm my subscription"))
            #expect(try await world.subscriber("ada@example.net")?.status == .pending, "a GET (a mail scanner) confirms nothing")

            let confirmed = try await phone.post(link, [("csrf", try #require(confirmPage.csrf))])
            #expect(confirmed.status == .ok)
            #expect(confirmed.body.contains("Your subscription is confirmed"))
            #expect(confirmed.body.contains(#"action="/preferences?token=p."#))
            let active = try #require(try await world.subscriber("ada@example.net"))
            #expect(active.status == .active)
            #expect(try await world.store.events(of: active).contains { $0.kind == .confirmed && $0.source == .web })

            // A welcome, once: what comes when, the reader's categories, and how to change them.
            let welcome = try await world.mail(to: "ada@example.net").filter { $0.headers["Subject"] == "Welcome to the ArXiv AI Daily" }
            #expect(welcome.count == 1)
            #expect(welcome.first?.parts[0].text.contains("cs.CL (Computation and Language)") == true)
            #expect(welcome.first?.parts[0].text.contains("/preferences?token=p.") == true)
            let again = try await phone.post(link, [("csrf", try #require(confirmPage.csrf))])
            #expect(again.status == .ok, "confirming twice is harmless")
            #expect(try await world.mail(to: "ada@example.net").filter { $0.headers["Subject"] == "Welcome to the ArXiv AI Daily" }.count == 1)
        }
    }

    @Test("a broken link's page asks for the address and mails a fresh manage link; the answer is the same for an unknown address, which gets nothing", arguments: Backend.allCases)
    func freshLinkForm(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            var browser = Browser(client)
            let broken = try await browser.get("/unsubscribe?token=u.1.0.tampered&lang=en")
            #expect(broken.status == .badRequest)
            #expect(broken.body.contains(#"<form method="post" action="/link?lang=en">"#))
            let known = try await browser.post("/link?lang=en", [("csrf", try #require(broken.csrf)), ("email", "li.wei@example.com")])
            let unknown = try await browser.post("/link?lang=en", [("csrf", try #require(broken.csrf)), ("email", "nobody@example.com")])
            #expect(known.status == .ok)
            #expect(known.body == unknown.body, "the page tells nobody who is on the list")
            let mail = try await world.mail(to: "li.wei@example.com")
            #expect(mail.count == 1)
            #expect(mail.first?.parts[0].text.contains("/preferences?token=p.") == true)
            #expect(try await world.smtp.messages().allSatisfy { $0.rcptTos != ["nobody@example.com"] })
            let forged = try await browser.post("/link?lang=en", [("csrf", "forged"), ("email", "li.wei@example.com")])
            #expect(forged.status == .forbidden)
            #expect(try await world.mail(to: "li.wei@example.com").count == 1)
        }
    }

    @Test("the answer is identical for a new, a pending and an active address; only the mail differs, and nothing about the active reader changes", arguments: Backend.allCases)
    func noEnumeration(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            var browser = Browser(client)
            let csrf = try await browser.get("/?lang=en").csrf
            _ = try await world.store.add(
                NewSubscriber(email: try EmailAddress("wang@example.com"), name: nil, categories: ["cs.LG"], language: .zh, status: .pending),
                source: .cli)
            var answers: [Page] = []
            for address in ["new@example.com", "wang@example.com", "li.wei@example.com"] {
                answers.append(try await browser.post("/subscribe?lang=en", Self.signUp(address, csrf: csrf)))
            }
            func normalised(_ page: Page) -> String {
                page.body.replacingOccurrences(of: #"[a-z.]{2}\*\*\*@example\.com"#, with: "…", options: .regularExpression)
            }
            #expect(Set(answers.map(\.status)) == [.ok])
            #expect(Set(answers.map(normalised)).count == 1)
            #expect(Set(answers.map { $0.headers.map(\.name) }).count == 1)

            #expect(try await world.mail(to: "new@example.com").first?.headers["Subject"]?.contains("confirm") == true)
            #expect(try await world.mail(to: "wang@example.com").first?.headers["Subject"]?.contains("confirm") == true)
            let reminder = try #require(try await world.mail(to: "li.wei@example.com").first)
            #expect(reminder.headers["Subject"] == "你已经订阅了 ArXiv AI 日报")
            let text = try #require(reminder.parts.first { $0.content_type == "text/plain" }?.text)
            #expect(text.link("preferences") != nil)
            #expect(text.link("confirm") == nil)
            let li = try #require(try await world.subscriber("li.wei@example.com"))
            #expect(li.categories == ["cs.AI"] && li.language == .zh && li.status == .active)
            #expect(try await world.subscriber("wang@example.com")?.categories == ["cs.CL", "cs.CV"])
        }
    }

    @Test("a form POST without the CSRF field, with a wrong one, or without the cookie is refused and changes nothing", arguments: Backend.allCases)
    func csrf(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            var browser = Browser(client)
            let good = try #require(try await browser.get("/?lang=en").csrf)
            let missing = try await browser.post("/subscribe?lang=en", Self.signUp("eve@example.com", csrf: nil))
            let wrong = try await browser.post("/subscribe?lang=en", Self.signUp("eve@example.com", csrf: String(good.reversed())))
            var stranger = Browser(client)
            let noCookie = try await stranger.post("/subscribe?lang=en", Self.signUp("eve@example.com", csrf: good))
            for page in [missing, wrong, noCookie] {
                #expect(page.status == .forbidden)
                #expect(page.body.contains("This form expired or came from another site"))
                #expect(page.body.contains(#"value="eve@example.com""#), "what was typed is kept")
            }
            #expect(try await world.subscriber("eve@example.com") == nil)
            #expect(try await world.smtp.messages().isEmpty)

            let pending = try await world.store.add(
                NewSubscriber(email: try EmailAddress("p@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .pending),
                source: .cli)
            let confirmToken = try await world.token(.confirm, for: pending.id, expires: Date().addingTimeInterval(3600))
            let refused = try await browser.post("/confirm?token=\(confirmToken)", [("csrf", "x")])
            #expect(refused.status == .forbidden)
            #expect(try await world.subscriber("p@example.com")?.status == .pending)
        }
    }

    @Test("bad input is named, escaped and kept: a bad address, no category, an unknown category, a long name", arguments: Backend.allCases)
    func validation(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            var browser = Browser(client)
            let csrf = try await browser.get("/?lang=en").csrf
            let badAddress = try await browser.post(
                "/subscribe?lang=en", Self.signUp("not-an-address<script>", name: "<b>Bob</b>", csrf: csrf))
            #expect(badAddress.status == .badRequest)
            #expect(badAddress.body.contains("&#39;not-an-address&lt;script&gt;&#39; is not a valid email address") ||
                    badAddress.body.contains("not-an-address&lt;script&gt;"))
            #expect(!badAddress.body.contains("<script>"))
            #expect(badAddress.body.contains(#"value="&lt;b&gt;Bob&lt;/b&gt;""#))
            #expect(badAddress.body.contains(#"value="cs.CV" checked"#), "the ticked boxes stay ticked")

            let none = try await browser.post("/subscribe?lang=en", Self.signUp("bob@example.com", categories: [], csrf: csrf))
            #expect(none.status == .badRequest)
            #expect(none.body.contains("Please choose at least one category."))

            let unknown = try await browser.post("/subscribe?lang=en", Self.signUp("bob@example.com", categories: ["cs.XX"], csrf: csrf))
            #expect(unknown.status == .badRequest)
            #expect(unknown.body.contains("&#39;cs.XX&#39; is not an arXiv category.") || unknown.body.contains("cs.XX"))

            let long = try await browser.post(
                "/subscribe?lang=en", Self.signUp("bob@example.com", name: String(repeating: "x", count: 101), csrf: csrf))
            #expect(long.status == .badRequest)
            #expect(long.body.contains("at most 100 characters"))
            #expect(try await world.subscriber("bob@example.com") == nil)
            #expect(try await world.smtp.messages().isEmpty)
        }
    }

    @Test("a form in the wrong shape gets a 400 page, never a 500 or the decoder's message", arguments: Backend.allCases)
    func unreadableForm(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            var browser = Browser(client)
            let csrf = try #require(try await browser.get("/?lang=en").csrf)
            let page = try await browser.post("/subscribe?lang=en", [("email", "x@example.com"), ("category", "cs.AI"), ("csrf", csrf)])
            #expect(page.status == .badRequest)
            #expect(page.body.contains("This form could not be read"))
            #expect(!page.body.contains("DecodingError"))
            let preferences = try await browser.post("/preferences?token=\(try await world.token(.preferences))", [("category", "x"), ("csrf", csrf)])
            #expect(preferences.status == .badRequest)
            #expect(try await world.subscriber("x@example.com") == nil)
        }
    }

    @Test("a body over 16 KiB is refused with 413 before it is read")
    func bodyLimit() async throws {
        try await withWebApp { world, client in
            let body = ByteBuffer(string: "email=a%40example.com&name=" + String(repeating: "x", count: 20 * 1024))
            try await client.execute(uri: "/subscribe", method: .post, headers: WebWorld.form, body: body) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/unsubscribe?token=x", method: .post, headers: WebWorld.form, body: body) { response in
                #expect(response.status == .contentTooLarge)
            }
            #expect(try await world.subscriber("a@example.com") == nil)
        }
    }

    @Test("sign-ups are limited per client and per target address, answering 429 with Retry-After", arguments: Backend.allCases)
    func rateLimits(backend: Backend) async throws {
        try await withWebApp(backend: backend, configure: {
            $0.web.subscribeLimitPerClient = 3
            $0.web.subscribeLimitPerAddress = 2
            $0.web.trustForwardedFor = true
        }) { world, client in
            var browser = Browser(client)
            let csrf = try await browser.get("/?lang=en").csrf
            let one: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "192.0.2.1"]
            for index in 0..<3 {
                let page = try await browser.post("/subscribe?lang=en", Self.signUp("r\(index)@example.com", csrf: csrf), headers: one)
                #expect(page.status == .ok)
            }
            let limited = try await browser.post("/subscribe?lang=en", Self.signUp("r9@example.com", csrf: csrf), headers: one)
            #expect(limited.status == .tooManyRequests)
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 3500 && retryAfter <= 3600)
            #expect(try await world.subscriber("r9@example.com") == nil)

            for (index, client) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"].enumerated() {
                let page = try await browser.post(
                    "/subscribe?lang=en", Self.signUp("target@example.com", csrf: csrf), headers: [HTTPField.Name("X-Forwarded-For")!: "10.0.0.9, \(client)"])
                #expect(page.status == (index < 2 ? .ok : .tooManyRequests))
            }
            #expect(try await world.mail(to: "target@example.com").count == 2)
        }
    }

    @Test("expired, tampered and wrong-purpose confirmation links show a clear page with a way to ask again, and confirm nothing", arguments: Backend.allCases)
    func badConfirmationLinks(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            let pending = try await world.store.add(
                NewSubscriber(email: try EmailAddress("late@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .pending),
                source: .cli)
            let expired = try await world.token(.confirm, for: pending.id, expires: Date().addingTimeInterval(-60))
            let valid = try await world.token(.confirm, for: pending.id, expires: Date().addingTimeInterval(3600))
            let tampered = valid.replacingOccurrences(of: "c.\(pending.id).", with: "c.\(world.li.id).")
            let wrongPurpose = try await world.token(.unsubscribe, for: pending.id)
            var browser = Browser(client)
            let page = try await browser.get("/confirm?token=\(expired)")
            #expect(page.status == .gone)
            #expect(page.body.contains("This link has expired"))
            #expect(page.body.contains(#"action="/subscribe?lang=en""#), "the page offers the form to ask for a new link")
            for token in [tampered, wrongPurpose, "garbage"] {
                let page = try await browser.get("/confirm?token=\(token)")
                #expect(page.status == .badRequest)
                #expect(page.body.contains("This link is not valid"))
            }
            let csrf = try #require(page.csrf)
            for token in [expired, tampered, wrongPurpose] {
                let answer = try await browser.post("/confirm?token=\(token)", [("csrf", csrf)])
                #expect(answer.status == .gone || answer.status == .badRequest)
            }
            #expect(try await world.subscriber("late@example.com")?.status == .pending)
            #expect(try await world.subscriber("li.wei@example.com")?.status == .active)

            let fresh = try await browser.post("/subscribe?lang=en", Self.signUp("late@example.com", csrf: csrf))
            #expect(fresh.status == .ok)
            let mail = try #require(try await world.mail(to: "late@example.com").first)
            #expect(mail.parts.first?.text.link("confirm") != nil, "asking again sends a new link")
        }
    }

    @Test("after unsubscribing, subscribing again sends a confirmation and the reader stays unsubscribed until they confirm", arguments: Backend.allCases)
    func resubscribe(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            let unsubscribe = try await world.token(.unsubscribe)
            try await client.execute(uri: "/unsubscribe?token=\(unsubscribe)", method: .post, headers: WebWorld.form, body: WebWorld.oneClick) {
                #expect($0.status == .ok)
            }
            var browser = Browser(client)
            let csrf = try await browser.get("/?lang=zh").csrf
            let answer = try await browser.post("/subscribe?lang=zh", Self.signUp("li.wei@example.com", categories: ["cs.RO"], language: "zh", csrf: csrf))
            #expect(answer.status == .ok)
            #expect(answer.body.contains("请查收邮件"))
            let waiting = try #require(try await world.subscriber("li.wei@example.com"))
            #expect(waiting.status == .unsubscribed, "no digest before the owner confirms")
            #expect(waiting.categories == ["cs.RO"])
            let mail = try #require(try await world.mail(to: "li.wei@example.com").first)
            #expect(mail.headers["Subject"] == "请确认订阅 ArXiv AI 日报")
            let link = try #require(mail.parts.first?.text.link("confirm"))
            let confirmPage = try await browser.get(link)
            _ = try await browser.post(link, [("csrf", try #require(confirmPage.csrf))])
            let back = try #require(try await world.subscriber("li.wei@example.com"))
            #expect(back.status == .active)
            #expect(try await world.store.events(of: back).contains { $0.kind == .resubscribed && $0.source == .web })
        }
    }
}
