import Foundation
import PaperPostCore

/// The readers a send goes to, read a page at a time. Two implementations: SQLite
/// (``SubscriberStore``) and PostgreSQL, so that senders on several hosts read one list.
public protocol RecipientDirectory: Sendable {
    /// The recipients the filter selects, with what mailing them takes, in id order; `limit`
    /// of them after the subscriber with id `after`.
    func recipients(after id: Int64, limit: Int, _ filter: RecipientFilter) async throws -> [Recipient]
    /// The recipients with these ids that the filter selects, by id.
    func recipients(ids: [Int64], _ filter: RecipientFilter) async throws -> [Int64: Recipient]
    /// How many subscribers the filter selects.
    func count(_ filter: RecipientFilter) async throws -> Int
}

extension RecipientDirectory {
    /// Every recipient the filter selects, in id order. For a known few (one address, one id,
    /// a test's list); a whole list is read with ``forEachRecipientPage(_:pageSize:isolation:_:)``.
    public func recipients(only address: EmailAddress? = nil, id: Int64? = nil, includingInactive: Bool = false) async throws -> [Recipient] {
        var filter = includingInactive ? RecipientFilter.everyStatus : RecipientFilter()
        filter.address = address
        filter.id = id
        var all: [Recipient] = []
        try await forEachRecipientPage(filter) { all += $0 }
        return all
    }

    /// Calls `body` with each page of the recipients the filter selects, in id order.
    public func forEachRecipientPage(
        _ filter: RecipientFilter = RecipientFilter(), pageSize: Int = 1_000, isolation: isolated (any Actor)? = #isolation,
        _ body: ([Recipient]) async throws -> Void
    ) async throws {
        var after: Int64 = 0
        while true {
            let page = try await recipients(after: after, limit: pageSize, filter)
            guard let last = page.last else { return }
            try await body(page)
            guard page.count == pageSize else { return }
            after = last.subscriberID
        }
    }
}

/// The stored digests a send mails. Two implementations: SQLite (``CurationStore``) and
/// PostgreSQL.
public protocol DigestArchive: Sendable {
    /// The newest day arXiv announced papers on that was fetched: what a send without a date mails.
    func latestAnnouncedDay() async throws -> Day?
    /// The digest of a day, with its own usage.
    func digest(on day: Day) async throws -> Digest?
}

extension DigestArchive {
    /// The weekly edition's digest ending on `day` (see ``Digest/week(_:endingOn:)``): the
    /// stored digests of that day and the six before it, combined without any model call.
    public func week(endingOn day: Day) async throws -> Digest? {
        var days: [Digest] = []
        for offset in 0...6 {
            if let stored = try await digest(on: day.adding(days: -offset)) { days.append(stored) }
        }
        return Digest.week(days, endingOn: day)
    }
}

extension SubscriberStore: RecipientDirectory {}

extension CurationStore: DigestArchive {
    public func latestAnnouncedDay() async throws -> Day? {
        try await PaperStore(database: database).announcements(limit: 1).first?.day
    }
}
