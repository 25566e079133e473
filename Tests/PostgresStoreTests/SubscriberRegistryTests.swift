import Crypto
import Foundation
import GRDB
import PaperPostCore
import PaperPostStore
import PostgresNIO
import PostgresStore
import TestSupport
import Testing

/// The list as the web pages and the `subscribers` commands change it, with the sign-up limits,
/// on an empty store of either engine.
struct RegistryWorld {
    var subscribers: any SubscriberRegistry
    var papers: any PaperArchive
    var limits: any RateLimiter
    /// `SELECT count(*) …` in SQL both engines read alike.
    var count: @Sendable (String) async throws -> Int

    static let secret = SymmetricKey(data: Data("limit-secret".utf8))
}

extension Backend {
    func withRegistry(_ body: (RegistryWorld) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            try await withTemporaryStore { store, directory in
                let database = store.database
                let raw = try DatabaseQueue(path: directory.appendingPathComponent("test.sqlite").path)
                try await body(
                    RegistryWorld(
                        subscribers: store, papers: PaperStore(database: database),
                        limits: RateLimitStore(database: database, serverSecret: RegistryWorld.secret),
                        count: { sql in try await raw.read { try Int.fetchOne($0, sql: sql) ?? -1 } }))
            }
        case .postgres:
            let url = try await TestPostgres.newDatabase()
            try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: url), connections: 8) { database in
                try await body(
                    RegistryWorld(
                        subscribers: PostgresSubscriberStore(database: database), papers: PostgresPaperStore(database: database),
                        limits: PostgresRateLimitStore(database: database, serverSecret: RegistryWorld.secret),
                        count: { sql in
                            try await TestPostgres.withConnection(to: url) { connection in
                                var total = -1
                                for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: .init(label: "test"))
                                    .decode(Int64.self)
                                {
                                    total = Int(value)
                                }
                                return total
                            }
                        }))
            }
        }
    }
}

@Suite("the list's changes and the sign-up limits, on SQLite and on PostgreSQL")
struct SubscriberRegistryTests {
    func request(_ email: String, categories: [String] = ["cs.RO"]) throws -> NewSubscriber {
        NewSubscriber(email: try EmailAddress(email), name: "Typed", categories: categories, language: .zh, status: .active)
    }

    func added(_ registry: any SubscriberRegistry, _ email: String, status: SubscriberStatus = .active) async throws -> Subscriber {
        try await registry.add(
            NewSubscriber(email: try EmailAddress(email), name: nil, categories: ["cs.AI"], language: .en, status: status), source: .cli)
    }

    @Test("a new address becomes pending whatever status the request names, and confirming activates it once", arguments: Backend.allCases)
    func newAddress(backend: Backend) async throws {
        try await backend.withRegistry { world in
            let store = world.subscribers
            guard case .needsConfirmation(let pending) = try await store.requestSubscription(try request("new@example.com")) else {
                Issue.record("a new address needs confirmation")
                return
            }
            #expect(pending.status == .pending && pending.categories == ["cs.RO"] && pending.language == .zh && pending.name == "Typed")
            #expect(try await store.confirm(id: pending.id)?.status == .active)
            #expect(try await store.confirm(id: pending.id)?.status == .active)
            #expect(try await store.events(of: pending).map(\.kind) == [.added, .confirmed])
            #expect(try await store.recipients().map(\.email) == ["new@example.com"])
        }
    }

    @Test("an active or paused subscriber is left exactly as it was", arguments: Backend.allCases)
    func receiving(backend: Backend) async throws {
        try await backend.withRegistry { world in
            let store = world.subscribers
            for status in [SubscriberStatus.active, .paused] {
                let email = "\(status.rawValue)@example.com"
                let before = try await added(store, email, status: status)
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

    @Test("an unsubscribed or forgotten address takes the request's choices but stays unsubscribed until confirmed", arguments: Backend.allCases)
    func suppressed(backend: Backend) async throws {
        try await backend.withRegistry { world in
            let store = world.subscribers
            let gone = try await added(store, "gone@example.com")
            #expect(try await store.unsubscribe(try EmailAddress("gone@example.com"), source: .cli))
            #expect(try await store.unsubscribe(try EmailAddress("gone@example.com"), source: .cli) == false)
            try await store.forget(try EmailAddress("gone@example.com"), source: .cli)
            #expect(try await store.linkIdentity(id: gone.id) == nil, "a forgotten subscriber has no links")
            #expect(try await world.count("SELECT count(*) FROM subscriber WHERE email IS NULL AND name IS NULL AND email_key LIKE 'sha256:%'") == 1)
            #expect(try await world.count("SELECT count(*) FROM subscriber_category") == 0)
            #expect(try await world.count("SELECT count(*) FROM subscriber_event WHERE detail IS NOT NULL") == 0)

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
            #expect(
                try await store.events(of: back).map(\.kind) == [.added, .unsubscribed, .forgotten, .updated, .categoriesChanged, .updated, .updated, .resubscribed])
        }
    }

    @Test("the link unsubscribe checks the link inside its transaction and changes nothing when refused", arguments: Backend.allCases)
    func authorizedUnsubscribe(backend: Backend) async throws {
        try await backend.withRegistry { world in
            let store = world.subscribers
            let li = try await added(store, "li@example.com")
            let secret = try #require(try await store.linkIdentity(id: li.id)).secret
            #expect(try await store.unsubscribe(id: li.id, source: .link, authorized: { _ in false }) == nil)
            #expect(try await store.find(try EmailAddress("li@example.com"))?.status == .active)
            #expect(try await store.unsubscribe(id: li.id, source: .link, authorized: { $0.secret == secret })?.status == .unsubscribed)
            #expect(try await store.unsubscribe(id: li.id, source: .link, authorized: { _ in true })?.status == .unsubscribed)
            #expect(try await store.events(of: li).filter { $0.kind == .unsubscribed }.count == 1)
            #expect(try await store.unsubscribe(id: 999, source: .link, authorized: { _ in true }) == nil)
        }
    }

    @Test("every kind of change writes the same fields and the same trail on both engines", arguments: Backend.allCases)
    func changes(backend: Backend) async throws {
        try await backend.withRegistry { world in
            let store = world.subscribers
            let address = try EmailAddress("ana@example.com")
            let ana = try await store.add(
                NewSubscriber(
                    email: address, name: "Ana", categories: ["cs.AI", "cs.CL"], language: .en, status: .pending,
                    interests: try ReaderInterests(interests: ["retrieval"], muted: [], authors: []), schedule: .daily),
                source: .cli)
            await #expect(throws: StoreError.self) { try await self.added(store, "ANA@example.com") }
            let changed = try await store.update(
                address,
                SubscriberChange(
                    name: "", addCategories: ["cs.LG"], removeCategories: ["cs.AI"], language: .zh, status: .active,
                    interests: [.muted: ["crypto"], .interest: ["retrieval"]], schedule: .weekly(weekday: 2)),
                source: .cli)
            #expect(changed.name == nil && changed.categories == ["cs.CL", "cs.LG"] && changed.language == .zh && changed.status == .active)
            #expect(changed.interests.muted == ["crypto"] && changed.interests.interests == ["retrieval"] && changed.schedule == .weekly(weekday: 2))
            #expect(changed.confirmedAt != nil)
            let unchanged = try await store.update(id: ana.id, SubscriberChange(categories: ["cs.CL", "cs.LG"]), source: .web)
            #expect(unchanged.categories == ["cs.CL", "cs.LG"])
            await #expect(throws: InputError.self) { try await store.update(address, SubscriberChange(removeCategories: ["cs.CL", "cs.LG"]), source: .cli) }
            await #expect(throws: StoreError.self) { try await store.update(try EmailAddress("nobody@example.com"), SubscriberChange(name: "x"), source: .cli) }
            let trail = try await store.events(of: ana).map { "\($0.kind.rawValue) \($0.source.rawValue) \($0.detail ?? "-")" }
            #expect(
                trail == [
                    "added cli status pending; categories cs.AI cs.CL", "categories_changed cli cs.AI cs.CL → cs.CL cs.LG", "updated cli muted: 1",
                    "updated cli schedule daily → weekly:mon", "updated cli name", "updated cli language en → zh", "confirmed cli pending → active",
                ])
            let listed = try await store.subscribers(after: 0, limit: 10, status: .active, category: "cs.LG")
            #expect(listed.map(\.id) == [ana.id] && listed[0].interests == changed.interests)
        }
    }

    @Test("a vote remakes the reader's taste; the undo takes back only the vote given; a paper not stored is refused", arguments: Backend.allCases)
    func votes(backend: Backend) async throws {
        try await backend.withRegistry { world in
            let store = world.subscribers
            let reader = try await added(store, "reader@example.com")
            let paper = Paper(
                id: "2602.00001", version: 1, title: "Sparse retrieval", abstract: "Retrieval with sparse vectors.", authors: ["A. Author"],
                categories: ["cs.AI"], published: nil)
            _ = try await world.papers.record(
                day: try Day(parsing: "2026-02-21"), categories: ["cs.AI"], papers: [AnnouncedPaper(paper: paper, announceType: .new)], source: "feed")
            #expect(try await world.papers.title(of: paper.id) == "Sparse retrieval")
            #expect(try await world.papers.title(of: "2602.99999") == nil)
            let taste: @Sendable ([VotedPaper]) -> [String: Double] = { voted in
                Dictionary(voted.map { ($0.title, Double($0.vote.rawValue)) }, uniquingKeysWith: +)
            }
            #expect(try await store.vote(id: reader.id, paper: "2602.99999", .up, taste: taste) == false)
            #expect(try await store.vote(id: reader.id, paper: paper.id, .up, taste: taste))
            #expect(try await store.currentVote(id: reader.id, paper: paper.id) == .up)
            #expect(try await store.recipients(id: reader.id).first?.taste.isEmpty == false)
            #expect(try await store.vote(id: reader.id, paper: paper.id, .down, taste: taste))
            try await store.withdrawVote(id: reader.id, paper: paper.id, .up, taste: taste)
            #expect(try await store.currentVote(id: reader.id, paper: paper.id) == .down, "the undo of a vote since replaced changes nothing")
            #expect(try await store.votes(of: reader.id).map { "\($0.paperID) \($0.title ?? "-") \($0.vote.name)" } == ["2602.00001 Sparse retrieval \(Vote.down.name)"])
            try await store.withdrawVote(id: reader.id, paper: paper.id, .down, taste: taste)
            #expect(try await store.currentVote(id: reader.id, paper: paper.id) == nil)
            #expect(try await world.count("SELECT count(*) FROM subscriber_taste") == 0)
        }
    }

    @Test("eight sign-ups of one new address at once make one subscriber with one 'added' event", arguments: Backend.allCases)
    func concurrentSignUps(backend: Backend) async throws {
        try await backend.withRegistry { world in
            let store = world.subscribers
            let request = try request("twice@example.com")
            let answers = try await withThrowingTaskGroup(of: SubscriptionRequest.self) { group in
                for _ in 0..<8 { group.addTask { try await store.requestSubscription(request) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let ids = Set(answers.map { answer in
                switch answer {
                case .needsConfirmation(let subscriber), .alreadySubscribed(let subscriber): subscriber.id
                }
            })
            #expect(ids.count == 1 && answers.count == 8)
            #expect(try await world.count("SELECT count(*) FROM subscriber") == 1)
            #expect(try await world.count("SELECT count(*) FROM subscriber_event WHERE kind = 'added'") == 1)
        }
    }

    @Test("a sliding window: the limit refuses with the time until the oldest event leaves it, keys apart, scopes apart", arguments: Backend.allCases)
    func slidingWindow(backend: Backend) async throws {
        try await backend.withRegistry { world in
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            func admit(_ key: String, after seconds: Double, scope: String = "client") async throws -> Duration? {
                try await world.limits.admit(scope: scope, key: key, limit: 2, window: .seconds(60), now: start.addingTimeInterval(seconds))
            }
            let answer1 = try await admit("192.0.2.1", after: 0)
            #expect(answer1 == nil)
            let answer2 = try await admit("192.0.2.1", after: 10)
            #expect(answer2 == nil)
            let answer3 = try await admit("192.0.2.1", after: 20)
            #expect(answer3 == .seconds(40), "the first event leaves the window 60 s after it came")
            let answer4 = try await admit("192.0.2.2", after: 20)
            #expect(answer4 == nil, "another key has its own count")
            let answer5 = try await admit("192.0.2.1", after: 20, scope: "address")
            #expect(answer5 == nil, "another scope has its own count")
            let answer6 = try await admit("192.0.2.1", after: 60)
            #expect(answer6 == nil, "the first event has left the window")
            let answer7 = try await admit("192.0.2.1", after: 61)
            #expect(answer7 == .seconds(9))
            let answer8 = try await admit("192.0.2.1", after: 130)
            #expect(answer8 == nil)
        }
    }

    @Test("the table holds keyed hashes, never a client or email address; twenty admits at once let exactly the limit through", arguments: Backend.allCases)
    func keysAndConcurrency(backend: Backend) async throws {
        try await backend.withRegistry { world in
            _ = try await world.limits.admit(scope: "address", key: "victim@example.com", limit: 3, window: .seconds(3_600))
            #expect(try await world.count("SELECT count(*) FROM rate_event WHERE length(key) = 16") == 1)
            #expect(try await world.count("SELECT count(*) FROM rate_event") == 1)

            let limits = world.limits
            let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await limits.admit(scope: "client", key: "192.0.2.9", limit: 5, window: .seconds(3_600)) == nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(admitted == 5)
        }
    }
}

@Suite("imports, on SQLite and on PostgreSQL")
struct RegistryImportTests {
    func importing(_ world: RegistryWorld, _ csv: String, _ options: ImportOptions, in directory: URL) async throws -> ImportReport {
        let file = directory.appendingPathComponent("list-\(UUID().uuidString.prefix(6)).csv")
        try Data(csv.utf8).write(to: file)
        return try await world.subscribers.importCSV(contentsOf: file, file: "list.csv", options: options, progress: nil)
    }

    func counts(_ report: ImportReport) -> [Int] {
        [report.added.count, report.updated.count, report.unchanged.count, report.existing.count, report.suppressed.count,
         report.resubscribed.count, report.invalid.count]
    }

    @Test("adds, leaves, updates, brings back the suppressed and the forgotten only when asked, and a dry run writes nothing", arguments: Backend.allCases)
    func decisions(backend: Backend) async throws {
        try await backend.withRegistry { world in
            try await withTemporaryDirectory { directory in
                let store = world.subscribers
                let first = try await importing(
                    world, "email,name,categories,language\na@example.com,Ann,cs.AI,en\nb@example.com,,cs.CL;cs.LG,zh\nc@example.com,Cy,cs.AI,en\n",
                    ImportOptions(), in: directory)
                #expect(counts(first) == [3, 0, 0, 0, 0, 0, 0])
                #expect(try await store.unsubscribe(try EmailAddress("b@example.com"), source: .cli))
                try await store.forget(try EmailAddress("c@example.com"), source: .cli)

                let again = "email,name,categories,status\nA@example.com,Anna,cs.AI;cs.RO,active\nb@example.com,Bo,cs.CL,active\nc@example.com,Cy,cs.AI,active\nd@example.com,,cs.AI,\n"
                let dry = try await importing(world, again, ImportOptions(dryRun: true, updateExisting: true, resubscribe: true), in: directory)
                #expect(counts(dry) == [1, 1, 0, 0, 0, 2, 0] && dry.dryRun)
                #expect(try await world.count("SELECT count(*) FROM subscriber") == 3, "a dry run writes nothing")

                let left = try await importing(world, again, ImportOptions(), in: directory)
                #expect(counts(left) == [1, 0, 0, 1, 2, 0, 0])
                #expect(left.suppressed.listed.map(\.note) == [
                    "unsubscribed; not re-activated (use --resubscribe if they asked to come back)",
                    "unsubscribed; not re-activated (use --resubscribe if they asked to come back)",
                ])

                let updated = try await importing(world, again, ImportOptions(updateExisting: true, resubscribe: true), in: directory)
                #expect(counts(updated) == [0, 1, 1, 0, 0, 2, 0])
                #expect(updated.resubscribed.listed.map(\.note) == ["unsubscribed → active", "unsubscribed → active"])
                let back = try #require(try await store.find(try EmailAddress("c@example.com")))
                #expect(back.email == "c@example.com" && back.status == .active && back.categories == ["cs.AI"])
                let ann = try #require(try await store.find(try EmailAddress("a@example.com")))
                #expect(ann.name == "Anna" && ann.categories == ["cs.AI", "cs.RO"] && ann.language == .en)
                #expect(try await store.events(of: ann).map { "\($0.kind.rawValue) \($0.source.rawValue)" } == [
                    "imported import", "categories_changed import", "updated import",
                ])
                let exported = try await store.exportCSV()
                #expect(exported == """
                    email,name,categories,language,status,interests,muted,authors,schedule\r
                    a@example.com,Anna,cs.AI;cs.RO,en,active,,,,daily\r
                    b@example.com,Bo,cs.CL,zh,active,,,,daily\r
                    c@example.com,Cy,cs.AI,en,active,,,,daily\r
                    d@example.com,,cs.AI,zh,active,,,,daily\r

                    """)

                let interested = try await importing(
                    world, "email,interests,muted\na@example.com,agents;planning,\nb@example.com,,crypto\n", ImportOptions(updateExisting: true),
                    in: directory)
                #expect(counts(interested) == [0, 2, 0, 0, 0, 0, 0])
                let a = try #require(try await store.find(try EmailAddress("a@example.com")))
                let b = try #require(try await store.find(try EmailAddress("b@example.com")))
                #expect(a.interests.interests == ["agents", "planning"] && a.interests.muted.isEmpty && a.categories == ["cs.AI", "cs.RO"])
                #expect(b.interests.muted == ["crypto"] && b.interests.interests.isEmpty)
                #expect(try await store.events(of: a).last?.detail == "interests: 2")
            }
        }
    }
}
