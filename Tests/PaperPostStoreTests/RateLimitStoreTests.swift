import Crypto
import Foundation
import GRDB
@testable import PaperPostStore
import TestSupport
import Testing

@Suite("Rate limits in the database")
struct RateLimitStoreTests {
    @Test("a sliding window: the limit refuses with the time until the oldest event leaves it, keys apart, scopes apart")
    func slidingWindow() async throws {
        try await withTemporaryStore { store, _ in
            let limits = RateLimitStore(database: store.database, serverSecret: SymmetricKey(data: Data("limit-secret".utf8)))
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            func admit(_ key: String, after seconds: Double, scope: String = "client") async throws -> Duration? {
                try await limits.admit(scope: scope, key: key, limit: 2, window: .seconds(60), now: start.addingTimeInterval(seconds))
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

    @Test("the table holds keyed hashes, never a client or email address")
    func keysAreHashed() async throws {
        try await withTemporaryStore { store, _ in
            let limits = RateLimitStore(database: store.database, serverSecret: SymmetricKey(data: Data("limit-secret".utf8)))
            _ = try await limits.admit(scope: "address", key: "victim@example.com", limit: 3, window: .seconds(3_600))
            let keys = try await store.database.read { db in try Data.fetchAll(db, sql: "SELECT key FROM rate_event") }
            #expect(keys.count == 1 && keys[0].count == 16)
            #expect(String(decoding: keys[0], as: UTF8.self).contains("victim") == false)
        }
    }
}
