@testable import Mail
import Testing

@Suite("Send pacing")
struct PacerTests {
    /// The interval was once `.milliseconds(Int(1000 / rate))`: a trap for a tiny rate and no
    /// pacing at all above 1,000 messages a second.
    @Test("any positive rate gives a usable interval", arguments: [
        (1e-20, Duration.seconds(1_000_000_000)), (0.01, .seconds(100)), (1, .seconds(1)), (4_000, .microseconds(250)),
        (100_000, .microseconds(10)),
    ])
    func interval(rate: Double, expected: Duration) {
        let interval = Pacer(perSecond: rate).interval
        let error = interval > expected ? interval - expected : expected - interval
        #expect(error < .microseconds(1), "\(interval) for \(rate) per second")
    }
}
