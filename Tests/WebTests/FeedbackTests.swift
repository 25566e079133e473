import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// "More like this" / "less like this" under each paper in the email.
@Suite("The web app: feedback from the email")
struct FeedbackTests {
    static func token(_ world: WebWorld, paper: String, _ vote: Vote, id: Int64? = nil, secret: String? = nil, expires: Date = Date().addingTimeInterval(86_400))
        async throws -> String
    {
        let id = id ?? world.li.id
        let identity = try #require(try await world.store.linkIdentity(id: id))
        return LinkToken(purpose: .feedback, subscriberID: id, expires: expires, subject: Vote.subject(paper: paper, vote))
            .signed(serverSecret: WebWorld.serverSecret, subscriberSecret: secret ?? identity.secret)
    }

    @Test("a GET shows the paper and one button and records nothing; the POST records; the last vote stands; undo takes it back", arguments: Backend.allCases)
    func vote(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            var browser = Browser(client)
            let up = try await Self.token(world, paper: "2602.00001", .up)
            let page = try await browser.get("/feedback?token=\(up)&lang=en")
            #expect(page.status == .ok)
            #expect(page.body.contains("More papers like this?"))
            #expect(page.body.contains("Paper 1 | &lt;b&gt;bold&lt;/b&gt;"), "the title, escaped")
            #expect(page.body.contains(#"action="/feedback?token=\#(up)&amp;lang=en""#) || page.body.contains(#"action="/feedback?token=\#(up)&lang=en""#))
            #expect(try await world.store.votes(of: world.li.id).isEmpty, "a GET (a mail scanner) records nothing")
            #expect(try await world.store.recipients().first?.taste.isEmpty == true)

            let recorded = try await browser.post("/feedback?token=\(up)&lang=en", [])
            #expect(recorded.status == .ok)
            #expect(recorded.body.contains("Noted: more like this"))
            #expect(recorded.body.contains("/feedback/undo?token="))
            #expect(try await world.store.votes(of: world.li.id).map(\.vote) == [.up])
            let taste = try #require(try await world.store.recipients().first { $0.subscriberID == world.li.id }?.taste)
            #expect(!taste.isEmpty, "the reader's taste is made again on each vote")

            let again = try await browser.get("/feedback?token=\(up)&lang=en")
            #expect(again.body.contains("Noted: more like this"), "a second visit shows the state, with undo")

            let down = try await Self.token(world, paper: "2602.00001", .down)
            #expect(try await browser.post("/feedback?token=\(down)&lang=en", []).status == .ok)
            let votes = try await world.store.votes(of: world.li.id)
            #expect(votes.map(\.vote) == [.down], "one vote per reader and paper: the last stands")
            #expect(votes.first?.title == "Paper 1 | <b>bold</b>")

            #expect(try await browser.post("/feedback/undo?token=\(up)&lang=en", []).status == .ok)
            #expect(try await world.store.votes(of: world.li.id).map(\.vote) == [.down], "undoing the up vote leaves the later down vote")
            let undone = try await browser.post("/feedback/undo?token=\(down)&lang=en", [])
            #expect(undone.body.contains("Your vote is taken back."))
            #expect(try await world.store.votes(of: world.li.id).isEmpty)
            #expect(try await world.store.recipients().first { $0.subscriberID == world.li.id }?.taste.isEmpty == true)
        }
    }

    @Test("a token for another reader, another paper or vote, an expired one, or one for a paper not stored changes nothing", arguments: Backend.allCases)
    func refused(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            var browser = Browser(client)
            let other = try await world.store.add(
                NewSubscriber(email: try EmailAddress("other@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .active),
                source: .cli)
            let otherIdentity = try #require(try await world.store.linkIdentity(id: other.id))
            // Li's id, signed with the other reader's secret.
            let wrongReader = try await Self.token(world, paper: "2602.00001", .up, secret: otherIdentity.secret)
            var tampered = try await Self.token(world, paper: "2602.00001", .up).split(separator: ".").map(String.init)
            tampered[3] = Data(Vote.subject(paper: "2602.00002", .up).utf8).base64URLEncoded
            let expired = try await Self.token(world, paper: "2602.00001", .up, expires: Date().addingTimeInterval(-60))
            for token in [wrongReader, tampered.joined(separator: "."), expired, "f.1.0.x.y"] {
                #expect(try await browser.get("/feedback?token=\(token)").status == .badRequest)
                #expect(try await browser.post("/feedback?token=\(token)", []).status == .badRequest)
            }
            let unknown = try await Self.token(world, paper: "2602.99999", .up)
            #expect(try await browser.post("/feedback?token=\(unknown)", []).status == .notFound)
            let unsubscribe = try await world.token(.unsubscribe)
            #expect(try await browser.post("/feedback?token=\(unsubscribe)", []).status == .badRequest, "another purpose")
            #expect(try await world.store.votes(of: world.li.id).isEmpty)
            #expect(try await world.store.votes(of: other.id).isEmpty)
        }
    }
}
