import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// `GET /metrics`: the operator's view in Prometheus' text format, off the public internet.
@Suite("The web app: metrics for the operator")
struct MetricsTests {
    /// The exposition's samples, `name{labels}` to value.
    static func samples(_ body: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test("on loopback: requests by route and status with latency, subscribers by status, sign-ups, unsubscribes and the last daily run", arguments: Backend.allCases)
    func loopback(backend: Backend) async throws {
        try await withWebApp(backend: backend) { world, client in
            var browser = Browser(client)
            #expect(try await browser.get("/archive/2026-02-20").status == .ok)
            #expect(try await browser.get("/archive/2026-02-21").status == .notFound)
            #expect(try await browser.get("/no/such/page").status == .notFound)
            let home = try await browser.get("/?lang=en")
            #expect(try await browser.post("/subscribe?lang=en", SubscriptionTests.signUp("ada@example.net", csrf: home.csrf)).status == .ok)
            let token = try await world.token(.unsubscribe)
            try await client.execute(uri: "/unsubscribe?token=\(token)", method: .post, headers: WebWorld.form, body: WebWorld.oneClick) {
                #expect($0.status == .ok)
            }

            let before = Self.samples(try await browser.get("/metrics").body)
            #expect(before["paperpost_daily_run_started_timestamp_seconds"] == 0, "no run yet")
            #expect(before[#"paperpost_daily_run_outcome{outcome="ok"}"#] == 0)

            let runs = world.runs
            let run = try await runs.start(at: Date(timeIntervalSince1970: 1_771_600_000))
            try await runs.setDay(run, WebWorld.day)
            let reader = try await world.store.add(
                NewSubscriber(email: try EmailAddress("b@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .active), source: .cli)
            _ = try await world.deliveries.enqueue(
                day: WebWorld.day, queued: [(id: reader.id, email: "b@example.com")], skipped: [(id: world.li.id, email: "li.wei@example.com", reason: "unsubscribed")])
            let running = Self.samples(try await browser.get("/metrics").body)
            #expect(running[#"paperpost_daily_run_outcome{outcome="running"}"#] == 1)
            #expect(running["paperpost_daily_run_finished_timestamp_seconds"] == 0)
            try await runs.finish(run, outcome: .partial, detail: nil, at: Date(timeIntervalSince1970: 1_771_600_600))

            let page = try await browser.get("/metrics")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(page.body.contains("# TYPE paperpost_http_requests_total counter"))
            #expect(page.body.contains("# HELP paperpost_subscribers Subscribers by status."))
            let metrics = Self.samples(page.body)
            #expect(metrics[#"paperpost_http_requests_total{route="/archive/{day}",method="GET",status="200"}"#] == 1)
            #expect(metrics[#"paperpost_http_requests_total{route="/archive/{day}",method="GET",status="404"}"#] == 1)
            #expect(metrics[#"paperpost_http_requests_total{route="unmatched",method="GET",status="404"}"#] == 1, "unknown paths share one series")
            #expect(metrics[#"paperpost_http_requests_total{route="/subscribe",method="POST",status="200"}"#] == 1)
            #expect(metrics[#"paperpost_http_request_duration_seconds_count{route="/archive/{day}",method="GET"}"#] == 2)
            #expect(metrics[#"paperpost_http_request_duration_seconds_bucket{route="/archive/{day}",method="GET",le="+Inf"}"#] == 2)
            #expect(metrics[#"paperpost_subscribers{status="active"}"#] == 1)
            #expect(metrics[#"paperpost_subscribers{status="pending"}"#] == 1)
            #expect(metrics[#"paperpost_subscribers{status="unsubscribed"}"#] == 1)
            #expect(metrics[#"paperpost_subscribers{status="bounced"}"#] == 0)
            #expect(metrics[#"paperpost_signups_total{stage="requested"}"#] == 1)
            #expect(metrics[#"paperpost_signups_total{stage="confirmed"}"#] == 0)
            #expect(metrics[#"paperpost_unsubscribes_total{source="link"}"#] == 1)
            #expect(metrics["paperpost_daily_run_started_timestamp_seconds"] == 1_771_600_000)
            #expect(metrics["paperpost_daily_run_finished_timestamp_seconds"] == 1_771_600_600)
            #expect(metrics[#"paperpost_daily_run_outcome{outcome="partial"}"#] == 1)
            #expect(metrics[#"paperpost_daily_run_outcome{outcome="running"}"#] == 0)
            #expect(metrics[#"paperpost_daily_run_papers{kind="scanned"}"#] == 3)
            #expect(metrics[#"paperpost_daily_run_papers{kind="picked"}"#] == 3)
            #expect(metrics[#"paperpost_daily_run_tokens{kind="prompt"}"#] == 0, "the heuristic bills nothing")
            #expect(metrics[#"paperpost_daily_run_deliveries{state="queued"}"#] == 1)
            #expect(metrics[#"paperpost_daily_run_deliveries{state="skipped"}"#] == 1)
            #expect(metrics[#"paperpost_daily_run_deliveries{state="sent"}"#] == 0)
        }
    }

    @Test("without a token, a request that came through a proxy is refused, since a proxy on the same host makes everyone loopback")
    func proxiedRefused() async throws {
        try await withWebApp { _, client in
            for header in ["X-Forwarded-For", "Forwarded", "X-Real-IP"] {
                try await client.execute(uri: "/metrics", method: .get, headers: [HTTPField.Name(header)!: "203.0.113.9"]) {
                    #expect($0.status == .forbidden, "\(header)")
                    #expect(String(buffer: $0.body).contains("PAPERPOST_METRICS_TOKEN"))
                    #expect(!String(buffer: $0.body).contains("paperpost_subscribers"))
                }
            }
        }
    }

    @Test("with PAPERPOST_METRICS_TOKEN, only the bearer token opens the metrics; a missing or wrong one gets 401 with a challenge")
    func bearerToken() async throws {
        let token = "metrics-token-0123456789abcdef"
        try await withWebApp(configure: { $0.web.metricsToken = token }) { _, client in
            let refused: [HTTPFields] = [
                [:], [.authorization: "Bearer wrong-token-0123456789abcdef"], [.authorization: "Bearer \(token)x"],
                [.authorization: "Bearer " + token.dropLast()], [.authorization: "Basic \(token)"], [.authorization: token],
            ]
            for headers in refused {
                try await client.execute(uri: "/metrics", method: .get, headers: headers) {
                    #expect($0.status == .unauthorized, "\(headers)")
                    #expect($0.headers[.wwwAuthenticate] == #"Bearer realm="paperpost metrics""#)
                    #expect(!String(buffer: $0.body).contains("paperpost_subscribers"))
                }
            }
            try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)", HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]
            ) {
                #expect($0.status == .ok, "the token works from anywhere, proxied or not")
                #expect(String(buffer: $0.body).contains(#"paperpost_subscribers{status="active"} 1"#))
            }
        }
    }
}
