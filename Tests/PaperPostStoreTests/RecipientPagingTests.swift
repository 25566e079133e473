import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

@Suite("Reading recipients a page at a time, and the list's aggregates")
struct RecipientPagingTests {
    /// Twelve readers: every third paused, two weekly on Friday, one with interests, in three
    /// kinds of edition.
    func populate(_ store: SubscriberStore) async throws {
        for number in 0..<12 {
            let categories = [["cs.AI"], ["cs.LG", "cs.AI"], ["cs.CL"]][number % 3]
            try await store.add(
                NewSubscriber(
                    email: try EmailAddress("r\(number)@example.com"), name: nil, categories: categories, language: number == 4 ? .zh : .en,
                    status: number % 3 == 2 ? .paused : .active,
                    interests: number == 7 ? try ReaderInterests(interests: ["agents"]) : .none,
                    schedule: number >= 10 ? .weekly(weekday: 6) : .daily),
                source: .cli)
        }
    }

    @Test("pages of any size give the same recipients, with categories, interests and schedule, as one read")
    func pagesMatchOneRead() async throws {
        try await withTemporaryStore { store, _ in
            try await populate(store)
            let whole = try await store.recipients(limit: 1_000)
            #expect(whole.map(\.email) == [0, 1, 3, 4, 6, 7, 9, 10].map { "r\($0)@example.com" })
            #expect(whole[1].categories == ["cs.LG", "cs.AI"], "each reader's own order")
            #expect(whole.first { $0.email == "r7@example.com" }?.interests.interests == ["agents"])
            #expect(whole.last?.schedule == .weekly(weekday: 6))
            for size in [1, 2, 3, 7] {
                var paged: [Recipient] = []
                try await store.forEachRecipientPage(pageSize: size) { page in
                    #expect(page.count <= size)
                    paged += page
                }
                #expect(paged == whole, "page size \(size)")
            }
            let byID = try await store.recipients(ids: [whole[2].subscriberID, 3, whole[5].subscriberID])
            #expect(Set(byID.values.map(\.email)) == ["r3@example.com", "r7@example.com"], "the paused r2 (id 3) is not an active recipient")
        }
    }

    @Test("filters: statuses, the schedules due on a day, readers with their own order; counts agree with the pages")
    func filters() async throws {
        try await withTemporaryStore { store, _ in
            try await populate(store)
            let thursday = Day(year: 2026, month: 2, day: 19)!
            let friday = Day(year: 2026, month: 2, day: 20)!
            let onThursday = RecipientFilter(schedules: Schedule.due(on: thursday))
            #expect(try await store.recipients(limit: 100, onThursday).map(\.email) == [0, 1, 3, 4, 6, 7, 9].map { "r\($0)@example.com" })
            #expect(try await store.count(RecipientFilter(schedules: Schedule.due(on: friday))) == 8)
            #expect(try await store.count(RecipientFilter(statuses: [.paused])) == 4)
            #expect(try await store.recipients(limit: 100, RecipientFilter(personal: true)).map(\.email) == ["r7@example.com"])
            #expect(try await store.count(RecipientFilter.everyStatus) == 12)
            #expect(Schedule.due(on: Day(year: 2026, month: 2, day: 21)!) == [.daily], "nobody is weekly on a Saturday")
        }
    }

    @Test("edition demand counts readers per (categories, language) without the personal ones; languages in use are an aggregate")
    func demand() async throws {
        try await withTemporaryStore { store, _ in
            try await populate(store)
            let demand = try await store.editionDemand()
            #expect(demand.map { "\($0.categories.joined(separator: "+")) \($0.language.rawValue) \($0.readers)" } == [
                "cs.AI en 4", "cs.AI+cs.LG en 2", "cs.AI+cs.LG zh 1",
            ])
            #expect(try await store.activeLanguages() == [.zh, .en])
            #expect(try await store.editionDemand().reduce(0) { $0 + $1.readers } + store.count(RecipientFilter(personal: true)) == store.count(RecipientFilter()))
        }
    }
}
