import Curl
import Synchronization
import Foundation
import Testing

let testUserAgent = "PaperPost/1.2.3 (+https://example.org/paperpost)"

extension RetryPolicy {
    /// Real retries with waits short enough to keep the suite quick.
    static let fast = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(100))
}

/// Sends `request` and returns the error it must throw, recording an issue if it succeeds.
func failure(of request: HTTPRequest, with client: HTTPClient) async -> HTTPError? {
    do {
        let response = try await client.send(request)
        Issue.record("expected an error, got HTTP \(response.status)")
        return nil
    } catch {
        return error
    }
}

/// Seconds since `start` on the continuous clock.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let (seconds, attoseconds) = (ContinuousClock.now - start).components
    return Double(seconds) + Double(attoseconds) / 1e18
}

/// Collects the waits HTTPClient chooses, without spending them.
final class SleepRecorder: Sendable {
    private let waits = Mutex<[Duration]>([])

    var recorded: [Duration] {
        waits.withLock { $0 }
    }

    func sleep(_ duration: Duration) async throws {
        waits.withLock { $0.append(duration) }
    }
}
