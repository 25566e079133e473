/// Counts events per key in a sliding window. It lives in memory: a restart forgets the counts,
/// which is acceptable for a brake on abuse, and keeps the database out of every request.
actor RateLimiter {
    let limit: Int
    let window: Duration
    private var events: [String: [ContinuousClock.Instant]] = [:]
    private var admitted = 0

    init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Records one event for `key`, or refuses it.
    ///
    /// - Returns: `nil` when admitted, otherwise how long until the key may try again.
    func admit(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        var times = events[key, default: []].filter { now - $0 < window }
        if times.count >= limit {
            events[key] = times
            return times[0] + window - now
        }
        times.append(now)
        events[key] = times
        admitted += 1
        if admitted % 1024 == 0 {
            events = events.filter { _, times in times.contains { now - $0 < window } }
        }
        return nil
    }
}
