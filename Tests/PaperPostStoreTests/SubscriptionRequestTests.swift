import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// What a web sign-up may and may not change, whatever state the address is in.
@Suite("Subscription requests from the web")
struct SubscriptionRequestTests {
    func request(_ email: String, categories: [String] = ["cs.RO"]) throws -> NewSubscriber {
        NewSubscriber(email: try EmailAddress(email), name: "Typed", categories: categories, language: .zh, status: .active)
    }

    @Test("a new address becomes pending whatever status the request names, and confirming activates it once")
    func newAddress() async throws {
        try await withTemporaryStore { store, _ in
            guard case .needsConfirmation(let pending) = try await store.requestSubscription(try request("new@example.com")) else {
                Issue.record("a new address needs confirmation")
                return
            }
            #expect(pending.status == .pending)
            #expect(try await store.confirm(id: pending.id)?.status == .active)
            #expect(try await store.confirm(id: pending.id)?.status == .active)
            let events = try await store.events(of: pending).map(\.kind)
            #expect(events == [.added, .confirmed])
        }
    }

    @Test("an active or paused subscriber is left exactly as it was")
    func receiving() async throws {
        try await withTemporaryStore { store, _ in
            for status in [SubscriberStatus.active, .paused] {
                let email = "\(status.rawValue)@example.com"
                let before = try await store.add(
                    NewSubscriber(email: try EmailAddress(email), name: nil, categories: ["cs.AI"], language: .en, status: status), source: .cli)
                guard case .alreadySubscribed(let found) = try await store.requestSubscription(try request(email)) else {
                    Issue.record("\(status) is already subscribed")
                    continue
                }
                #expect(found.id == before.id)
                let after = try #require(try await store.find(try EmailAddress(email)))
                #expect(after.status == status && after.categories == ["cs.AI"] && after.language == .en && after.name == nil)
                #expect(try await store.events(of: after).map(\.kind) == [.added])
            }
        }
    }

    @Test("an unsubscribed or forgotten address takes the request's choices but stays unsubscribed until confirmed")
    func suppressed() async throws {
        try await withTemporaryStore { store, _ in
            let gone = try await store.add(
                NewSubscriber(email: try EmailAddress("gone@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .active),
                source: .cli)
            try await store.unsubscribe(try EmailAddress("gone@example.com"), source: .cli)
            try await store.forget(try EmailAddress("gone@example.com"), source: .cli)
            #expect(try await store.linkIdentity(id: gone.id) == nil, "a forgotten subscriber has no links")

            guard case .needsConfirmation(let back) = try await store.requestSubscription(try request("Gone@example.com")) else {
                Issue.record("a forgotten address needs confirmation")
                return
            }
            #expect(back.id == gone.id)
            #expect(back.status == .unsubscribed)
            #expect(back.email == "Gone@example.com" && back.categories == ["cs.RO"] && back.language == .zh)
            #expect(try await store.recipients().isEmpty, "nobody receives anything before confirming")
            #expect(try await store.confirm(id: gone.id)?.status == .active)
            #expect(try await store.recipients().map(\.email) == ["Gone@example.com"])
        }
    }

    @Test("the link unsubscribe checks the link inside its transaction and changes nothing when refused")
    func authorizedUnsubscribe() async throws {
        try await withTemporaryStore { store, _ in
            let li = try await store.add(
                NewSubscriber(email: try EmailAddress("li@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .active),
                source: .cli)
            #expect(try await store.unsubscribe(id: li.id, source: .link, authorized: { _ in false }) == nil)
            #expect(try await store.find(try EmailAddress("li@example.com"))?.status == .active)
            #expect(try await store.unsubscribe(id: li.id, source: .link, authorized: { _ in true })?.status == .unsubscribed)
            #expect(try await store.unsubscribe(id: li.id, source: .link, authorized: { _ in true })?.status == .unsubscribed)
            #expect(try await store.events(of: li).filter { $0.kind == .unsubscribed }.count == 1)
        }
    }
}
