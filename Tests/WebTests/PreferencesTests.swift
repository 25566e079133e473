import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// The preference centre behind the link in every email.
@Suite("The web app: preferences")
struct PreferencesTests {
    @Test("GET shows the reader's choices and changes nothing; save changes categories and language; bad input is kept and named", arguments: Backend.allCases)
    func save(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            let token = try await world.token(.preferences)
            var browser = Browser(client)
            let page = try await browser.get("/preferences?token=\(token)")
            #expect(page.status == .ok)
            #expect(page.body.contains("li***@example.com 的订阅设置"))
            #expect(page.body.contains(#"value="cs.AI" checked"#))
            #expect(page.body.contains(#"value="zh" checked"#))
            let csrf = try #require(page.csrf)

            let bad = try await browser.post(
                "/preferences?token=\(token)", [("csrf", csrf), ("category[]", "cs.CV"), ("category[]", "nope"), ("language", "en"), ("action", "save")])
            #expect(bad.status == .badRequest)
            #expect(bad.body.contains("“nope”不是 arXiv 分类。"))
            #expect(bad.body.contains(#"value="cs.CV" checked"#))
            #expect(try await world.subscriber("li.wei@example.com")?.categories == ["cs.AI"])

            let saved = try await browser.post(
                "/preferences?token=\(token)", [("csrf", csrf), ("category[]", "cs.CV"), ("category[]", "cs.AI"), ("language", "en"), ("action", "save")])
            #expect(saved.status == .ok)
            #expect(saved.body.contains("Saved."), "the page follows the newly chosen language")
            let li = try #require(try await world.subscriber("li.wei@example.com"))
            #expect(li.categories == ["cs.CV", "cs.AI"])
            #expect(li.language == .en)
            #expect(try await world.store.events(of: li).contains { $0.kind == .categoriesChanged && $0.source == .web })
        }
    }

    @Test("interests, muted topics and followed authors: shown, saved one per line, refused with the entry named and the typed text kept", arguments: Backend.allCases)
    func interests(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            _ = try await world.store.update(
                id: world.li.id, SubscriberChange(interests: [.interest: ["RLHF"], .author: ["Yoshua Bengio"]]), source: .cli)
            let token = try await world.token(.preferences)
            var browser = Browser(client)
            let page = try await browser.get("/preferences?token=\(token)&lang=en")
            #expect(page.body.contains(#"<textarea id="interests" name="interests" rows="3">RLHF</textarea>"#))
            #expect(page.body.contains(#"<textarea id="authors" name="authors" rows="3">Yoshua Bengio</textarea>"#))
            #expect(page.body.contains("Topics to leave out"))
            let csrf = try #require(page.csrf)

            let long = String(repeating: "x", count: 101)
            let bad = try await browser.post(
                "/preferences?token=\(token)&lang=en",
                [("csrf", csrf), ("category[]", "cs.AI"), ("interests", "reward models\n\(long)"), ("muted", "<b>diffusion</b>"), ("action", "save")])
            #expect(bad.status == .badRequest)
            #expect(bad.body.contains("&#39;\(long)&#39; cannot be saved in “Topics you care about”") || bad.body.contains("'\(long)' cannot be saved"))
            #expect(bad.body.contains("&lt;b&gt;diffusion&lt;/b&gt;</textarea>"), "what was typed is kept, escaped")
            #expect(try await world.subscriber("li.wei@example.com")?.interests.interests == ["RLHF"], "nothing saved")

            let saved = try await browser.post(
                "/preferences?token=\(token)&lang=en",
                [("csrf", csrf), ("category[]", "cs.AI"), ("interests", "reward models\r\nRLHF; agents"), ("muted", "diffusion"), ("authors", ""),
                 ("action", "save")])
            #expect(saved.status == .ok)
            let li = try #require(try await world.subscriber("li.wei@example.com"))
            #expect(li.interests.interests == ["reward models", "RLHF", "agents"])
            #expect(li.interests.muted == ["diffusion"])
            #expect(li.interests.authors.isEmpty, "an emptied box clears the list")
            #expect(saved.body.contains(">reward models\nRLHF\nagents</textarea>"))
            #expect(saved.body.contains(#"<input type="radio" name="schedule" value="daily" checked>"#))

            // Daily or weekly, and the weekday.
            let weekly = try await browser.post(
                "/preferences?token=\(token)&lang=en", [("csrf", csrf), ("category[]", "cs.AI"), ("schedule", "weekly"), ("weekday", "thu"), ("action", "save")])
            #expect(weekly.status == .ok)
            #expect(try await world.subscriber("li.wei@example.com")?.schedule == .weekly(weekday: 5))
            #expect(weekly.body.contains(#"<option value="thu" selected>Thursday</option>"#))
            #expect(weekly.body.contains(#"<input type="radio" name="schedule" value="weekly" checked>"#))
            let saturday = try await browser.post(
                "/preferences?token=\(token)&lang=en", [("csrf", csrf), ("category[]", "cs.AI"), ("schedule", "weekly"), ("weekday", "sat"), ("action", "save")])
            #expect(saturday.status == .badRequest)
            #expect(saturday.body.contains("Please choose daily, or weekly on a day from Monday to Friday."))
            #expect(try await world.subscriber("li.wei@example.com")?.schedule == .weekly(weekday: 5))
        }
    }

    @Test("pause, resume and unsubscribe from the preference page; a wrong CSRF field or a bad token changes nothing", arguments: Backend.allCases)
    func status(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            let token = try await world.token(.preferences)
            var browser = Browser(client)
            let csrf = try #require(try await browser.get("/preferences?token=\(token)").csrf)
            let forged = try await browser.post("/preferences?token=\(token)", [("csrf", "forged"), ("action", "pause")])
            #expect(forged.status == .forbidden)
            #expect(try await world.subscriber("li.wei@example.com")?.status == .active)

            let unsubscribeToken = try await world.token(.unsubscribe)
            let wrongPurpose = try await browser.post("/preferences?token=\(unsubscribeToken)", [("csrf", csrf), ("action", "pause")])
            #expect(wrongPurpose.status == .badRequest)

            for (action, status) in [("pause", SubscriberStatus.paused), ("resume", .active), ("unsubscribe", .unsubscribed), ("resume", .active)] {
                let page = try await browser.post("/preferences?token=\(token)", [("csrf", csrf), ("action", action)])
                #expect(page.status == .ok)
                #expect(try await world.subscriber("li.wei@example.com")?.status == status, "after \(action)")
            }
            let li = try #require(try await world.subscriber("li.wei@example.com"))
            let events = try await world.store.events(of: li)
            #expect(events.contains { $0.kind == .unsubscribed && $0.source == .web })
            #expect(events.contains { $0.kind == .resubscribed && $0.source == .web })
        }
    }
}
