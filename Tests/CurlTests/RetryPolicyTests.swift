import Curl
import Foundation
import Testing

@Suite("Retry policy and Retry-After")
struct RetryPolicyTests {
    /// Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110.
    let rfcExample = Date(timeIntervalSince1970: 784_111_777)

    @Test("The defaults match the documented policy")
    func defaults() {
        let policy = RetryPolicy()
        #expect(policy.maxAttempts == 4)
        #expect(policy.baseDelay == .seconds(1))
        #expect(policy.maxDelay == .seconds(60))
        #expect(policy.retryableStatuses == [406, 408, 425, 429, 500, 502, 503, 504])
        #expect(RetryPolicy.none.maxAttempts == 1)
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }

    @Test("Retry-After in delta-seconds is read as a wait")
    func deltaSeconds() {
        #expect(RetryAfter.parse("120", now: rfcExample) == .seconds(120))
        #expect(RetryAfter.parse(" 0 ", now: rfcExample) == .zero)
        #expect(RetryAfter.parse("99999999999999999999999", now: rfcExample).map { $0 > .seconds(86_400) } == true)
    }

    @Test("Retry-After as an HTTP-date is read in all three RFC 9110 forms")
    func httpDates() {
        let now = rfcExample - 30
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(30))
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == .seconds(30))
        #expect(RetryAfter.parse("Sun Nov  6 08:49:37 1994", now: now) == .seconds(30))
    }

    @Test("A Retry-After date in the past means retry now, and garbage is ignored")
    func pastAndGarbage() {
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: rfcExample + 60) == .zero)
        #expect(RetryAfter.parse("soon", now: rfcExample) == nil)
        #expect(RetryAfter.parse("-5", now: rfcExample) == nil)
        #expect(RetryAfter.parse("", now: rfcExample) == nil)
    }

    @Test("Backoff ceilings double from baseDelay up to maxDelay")
    func backoffCeilings() {
        let policy = RetryPolicy(baseDelay: .seconds(1), maxDelay: .seconds(5))
        #expect(policy.backoffCeiling(afterAttempt: 1) == .seconds(1))
        #expect(policy.backoffCeiling(afterAttempt: 2) == .seconds(2))
        #expect(policy.backoffCeiling(afterAttempt: 3) == .seconds(4))
        #expect(policy.backoffCeiling(afterAttempt: 4) == .seconds(5))
        #expect(policy.backoffCeiling(afterAttempt: 500) == .seconds(5))
    }

    @Test("Full jitter draws between zero and the ceiling")
    func fullJitter() {
        let policy = RetryPolicy(baseDelay: .seconds(1), maxDelay: .seconds(60))
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil) { $0.upperBound } == .seconds(4))
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil) { $0.lowerBound } == .zero)
        for _ in 0..<100 {
            let wait = policy.delay(afterAttempt: 2, retryAfter: nil)
            #expect(wait >= .zero && wait <= .seconds(2))
        }
    }

    @Test("Retry-After replaces the jitter and is capped at maxDelay")
    func retryAfterWins() {
        let policy = RetryPolicy(baseDelay: .seconds(1), maxDelay: .seconds(60))
        #expect(policy.delay(afterAttempt: 1, retryAfter: "7") { _ in 0 } == .seconds(7))
        #expect(policy.delay(afterAttempt: 1, retryAfter: "3600") { _ in 0 } == .seconds(60))
        #expect(policy.delay(afterAttempt: 1, retryAfter: "whenever") { $0.upperBound } == .seconds(1))
    }
}

@Suite("HTTPError descriptions")
struct HTTPErrorTests {
    @Test("A transport error tells the operator what failed and what to check")
    func transportDescription() {
        let error = HTTPError.transport(
            url: "https://export.arxiv.org/api/query",
            code: 6,
            message: "Could not resolve host: export.arxiv.org",
            attempts: 4
        )
        #expect(
            error.description
                == "Could not reach https://export.arxiv.org/api/query (4 attempts): Could not resolve host: export.arxiv.org [curl error 6]. Check the host name in the URL and that this machine's DNS works."
        )
        #expect(error.url == "https://export.arxiv.org/api/query")
        #expect(error.attempts == 4)
    }

    @Test("A status error names the status and server and says whether retrying helps")
    func statusDescription() {
        let response = HTTPResponse(status: 403, headers: ["server": "nginx"], body: Data("Forbidden\n".utf8), url: "https://x.test/")
        let error = HTTPError.status(url: "https://x.test/", status: 403, server: "nginx", attempts: 1, lastResponse: response)
        #expect(
            error.description
                == "https://x.test/ answered HTTP 403 from server \"nginx\" (1 attempt). Body starts: \"Forbidden\". The server refuses this client: check credentials, the User-Agent and whether this host is blocked."
        )
    }
}
