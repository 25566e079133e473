import PaperPostCore
import PaperPostStore
import Rendering

/// Adds a digest's rows to the delivery log a page of readers at a time, just ahead of the
/// lanes: the first message goes out while most of a large list has no row yet, and no more
/// than a page of readers is held at once.
///
/// Every reader with an id up to ``frontier`` has their row; the lanes read due rows only up
/// to it. A row once added is never added again (the log's key is the day and the reader), so
/// a run that stops early leaves the rest to the next run, which carries on where it stopped.
actor QueueFiller {
    let day: Day
    let subscribers: any RecipientDirectory
    let deliveries: any DeliveryLog
    let composer: EmailComposer
    /// The readers due today, whatever their status: paused and pending readers get a
    /// `skipped` row that says why.
    let filter: RecipientFilter
    let pageSize: Int

    private(set) var frontier: Int64 = 0
    private(set) var isDone = false
    /// Rows this run added.
    private(set) var added = 0

    init(day: Day, subscribers: any RecipientDirectory, deliveries: any DeliveryLog, composer: EmailComposer, only: EmailAddress?, pageSize: Int = 1_000) {
        self.day = day
        self.subscribers = subscribers
        self.deliveries = deliveries
        self.composer = composer
        self.filter = RecipientFilter(statuses: [.active, .paused, .pending], schedules: Schedule.due(on: day), address: only)
        self.pageSize = pageSize
    }

    /// The readers a digest goes to: active ones due that day.
    static func recipients(of day: Day, only: EmailAddress?) -> RecipientFilter {
        RecipientFilter(statuses: [.active], schedules: Schedule.due(on: day), address: only)
    }

    /// The next page's rows in one transaction. Returns how many active readers of the page
    /// turned out to have nothing to read (the progress counted them as due).
    @discardableResult
    func fillNextPage() async throws -> Int {
        guard !isDone else { return 0 }
        let page = try await subscribers.recipients(after: frontier, limit: pageSize, filter)
        let (queued, skipped) = sort(page)
        added += try await deliveries.enqueue(day: day, queued: queued, skipped: skipped.map { ($0.id, $0.email, $0.reason) })
        if let last = page.last, page.count == pageSize {
            frontier = last.subscriberID
        } else {
            frontier = .max
            isDone = true
        }
        return skipped.count { $0.active }
    }

    /// Adds the rows of every reader not reached yet.
    func finish() async throws {
        while !isDone { try await fillNextPage() }
    }

    /// What a run would add, without adding it: (queued, skipped).
    func plan() async throws -> (queued: Int, skipped: Int) {
        var counts = (queued: 0, skipped: 0)
        try await subscribers.forEachRecipientPage(filter, pageSize: pageSize) { page in
            let logged = try await deliveries.logged(day: day, ids: page.map(\.subscriberID))
            let (queued, skipped) = sort(page.filter { !logged.contains($0.subscriberID) })
            counts.queued += queued.count
            counts.skipped += skipped.count
        }
        return counts
    }

    /// Who gets a message and who is skipped, with why.
    private func sort(_ page: [Recipient]) -> (
        queued: [(id: Int64, email: String)], skipped: [(id: Int64, email: String, reason: String, active: Bool)]
    ) {
        var queued: [(id: Int64, email: String)] = []
        var skipped: [(id: Int64, email: String, reason: String, active: Bool)] = []
        for reader in page {
            if reader.status != .active {
                skipped.append((reader.subscriberID, reader.email, "not active (\(reader.status.rawValue))", false))
            } else if composer.hasEdition(for: reader) {
                queued.append((reader.subscriberID, reader.email))
            } else {
                skipped.append((reader.subscriberID, reader.email, "no papers in their categories", true))
            }
        }
        return (queued, skipped)
    }
}
