import Foundation
import PaperPostCore

/// The papers a fetch stores and a curation reads. Two implementations: SQLite
/// (``PaperStore``) and PostgreSQL.
public protocol PaperArchive: Sendable {
    /// Stores an announcement in one transaction: every paper inserted or updated (a newer
    /// version replaces the metadata, API details replace feed-only data, anything else is
    /// skipped), and the day recorded with its ids and announce types. Recording a day again
    /// adds what is new and changes nothing else.
    func record(day: Day, categories: [String], papers: [AnnouncedPaper], source: String) async throws -> AnnouncementTally
    /// The recorded announcement of a day, if any.
    func announcement(on day: Day) async throws -> Announcement?
    /// Recorded announcements, newest first.
    func announcements(limit: Int) async throws -> [Announcement]
    /// Papers announced on a day (or all stored papers), optionally only those in a category,
    /// in order of id.
    func papers(announcedOn day: Day?, category: String?) async throws -> [AnnouncedPaper]
    /// A stored paper's title: what a reader's vote page names.
    func title(of id: String) async throws -> String?
}

/// What a curation writes besides papers: the ledger of model calls, the answer cache and the
/// digest. Two implementations: SQLite (``CurationStore``) and PostgreSQL.
public protocol CurationLedger: DigestArchive {
    func record(_ call: LLMCall) async throws
    /// The ledger of a day, oldest first.
    func calls(on day: Day) async throws -> [LLMCall]
    /// Everything billed for a day: the sum of its ledger. Cost is `nil` when no call had a price.
    func usage(on day: Day, currency: String) async throws -> TokenUsage
    func cachedAnswers(for keys: [String]) async throws -> [String: Data]
    func cache(_ answers: [CachedAnswer]) async throws
    /// Stores a digest, replacing the day's previous one, in one transaction.
    func save(_ digest: Digest) async throws
}

/// The questions a fetch and a curation ask about the whole list, answered in SQL. Two
/// implementations: SQLite (``SubscriberStore``) and PostgreSQL.
public protocol SubscriberList: RecipientDirectory {
    /// The categories active readers take, the most read first.
    func activeCategories() async throws -> [String]
    /// The languages at least one active reader reads.
    func activeLanguages() async throws -> [Language]
    /// The editions the active readers who take the day's order as it is (no interests, no
    /// votes) will get, with how many readers get each, the most read first.
    func editionDemand() async throws -> [EditionDemand]
    /// Up to `limit` subscribers after the one with id `after`, in id order, whatever their status
    /// unless one is given.
    func subscribers(after id: Int64, limit: Int, status: SubscriberStatus?, category: String?) async throws -> [Subscriber]
    /// Subscribers per status, and active ones per category and language.
    func stats() async throws -> SubscriberStats
}

extension SubscriberList {
    /// Calls `body` with each page of subscribers in the order they were added: a listing or
    /// an export of the whole list holds one page.
    public func forEachSubscriberPage(
        status: SubscriberStatus? = nil, category: String? = nil, pageSize: Int = 1_000, isolation: isolated (any Actor)? = #isolation,
        _ body: ([Subscriber]) async throws -> Void
    ) async throws {
        var after: Int64 = 0
        while true {
            let page = try await subscribers(after: after, limit: pageSize, status: status, category: category)
            guard let last = page.last else { return }
            try await body(page)
            guard page.count == pageSize else { return }
            after = last.id
        }
    }
}

extension PaperStore: PaperArchive {}
extension CurationStore: CurationLedger {}
extension SubscriberStore: SubscriberList {}

extension PaperArchive {
    /// The newest announced day: what a fetch or a curation without a date takes.
    public func latestDay() async throws -> Day? {
        try await announcements(limit: 1).first?.day
    }
}
