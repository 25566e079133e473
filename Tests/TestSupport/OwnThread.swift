import Foundation

/// Runs `work`, which blocks (reading a pipe to its end, waiting for a process), on a thread of
/// its own and returns its result.
///
/// Swift's cooperative pool has one thread per core, two on a small CI machine. Blocking one
/// there (as `Task.detached { process.waitUntilExit() }` does: detached tasks run on that same
/// pool) stalls every other test in the process for as long as it blocks: their sleeps
/// overrun, their requests' answers wait, and any test that measures time fails by luck.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(returning: work())
        }
    }
}
