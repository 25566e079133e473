import Hummingbird
import Synchronization

/// Pages that stay the same until their digest is curated again (a past edition, the feed),
/// kept as rendered: the archive page rendered the whole digest on every request, although a
/// past edition never changes.
///
/// Each page is kept with the stamp of what it was made from (when its digests were made); a
/// request whose stamp differs, because another process curated the day again, makes the page
/// anew. At most ``limit`` pages are kept; past it, the oldest kept goes.
final class PageCache: Sendable {
    private struct Entry {
        var stamp: String
        var body: ByteBuffer
        var order: Int
    }

    private let entries = Mutex<(pages: [String: Entry], next: Int)>(([:], 0))
    let limit: Int

    init(limit: Int = 256) {
        self.limit = limit
    }

    /// The page kept under `key` if it was made from `stamp`; otherwise `make`'s page, kept
    /// (unless `make` returns `nil`: nothing to show, nothing kept).
    func page(_ key: String, stamp: String, make: () async throws -> ByteBuffer?) async rethrows -> ByteBuffer? {
        if let hit = entries.withLock({ $0.pages[key] }), hit.stamp == stamp { return hit.body }
        guard let body = try await make() else { return nil }
        entries.withLock { state in
            if state.pages[key] == nil, state.pages.count >= limit, let oldest = state.pages.min(by: { $0.value.order < $1.value.order })?.key {
                state.pages[oldest] = nil
            }
            state.pages[key] = Entry(stamp: stamp, body: body, order: state.next)
            state.next += 1
        }
        return body
    }

    var count: Int { entries.withLock { $0.pages.count } }
}
