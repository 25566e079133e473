import Foundation
import HTTPTypes
import Hummingbird
import PaperPostCore
import PaperPostStore
import Prometheus
import Synchronization

/// What `GET /metrics` shows, in Prometheus' text format: the web app's own requests, counted
/// as they happen, and the newsletter's figures, read from the store at each scrape (they
/// change in other processes: `send`, `daily`, the CLI).
///
/// The registry is this app's own, not swift-metrics' process-wide one, so two apps in one
/// process (as in the tests) do not count each other's requests.
final class SiteMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    /// Store figures are written into the registry and emitted under this lock, so that two
    /// scrapes at once never show one's half-written numbers.
    private let scrape = Mutex(())

    private static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// Counts one request under the route that answered it (`/edition/{day}`, not each day, so
    /// the number of series stays small); a path no route knows is `unmatched` (Hummingbird
    /// names it `NotFound`).
    func recordRequest(route: String?, method: String, status: Int, duration: Duration) {
        let route = route.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        registry.makeCounter(
            descriptor: Self.name("http_requests", unit: "total", help: "Requests answered, by route, method and status."),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", unit: "seconds", help: "Time to answer a request, by route and method."),
            labels: [("route", route), ("method", method)], buckets: Self.durationBuckets
        ).record(duration)
    }

    /// The exposition, with the store's figures as of `status`.
    func exposition(_ status: NewsletterStatus) -> [UInt8] {
        scrape.withLock { _ in
            for state in SubscriberStatus.allCases {
                gauge("subscribers", "Subscribers by status.", [("status", state.rawValue)]).set(to: Double(status.subscribers[state] ?? 0))
            }
            count("signups", "Sign-ups: asked for on the web page, and confirmed.", [("stage", "requested")], status.signUpsRequested)
            count("signups", "Sign-ups: asked for on the web page, and confirmed.", [("stage", "confirmed")], status.signUpsConfirmed)
            for source in SubscriberEvent.Source.allCases {
                count("unsubscribes", "Unsubscribes, by where they came from.", [("source", source.rawValue)], status.unsubscribes[source] ?? 0)
            }
            lastRun(status)
            return registry.emitToBuffer()
        }
    }

    private func lastRun(_ status: NewsletterStatus) {
        let run = status.lastRun
        gauge("daily_run_started", "When the last daily run started (Unix time; 0: none yet).", [], unit: "timestamp_seconds")
            .set(to: run?.startedAt.timeIntervalSince1970 ?? 0)
        gauge("daily_run_finished", "When the last daily run finished (Unix time; 0: running, or killed).", [], unit: "timestamp_seconds")
            .set(to: run?.finishedAt?.timeIntervalSince1970 ?? 0)
        for outcome in DailyRun.Outcome.allCases {
            gauge("daily_run_outcome", "How the last daily run ended: 1 for its outcome, 0 for the others.", [("outcome", outcome.rawValue)])
                .set(to: run?.outcome == outcome ? 1 : 0)
        }
        let digest = status.lastDigest
        gauge("daily_run_papers", "The last run's digest: papers scanned and picked.", [("kind", "scanned")]).set(to: Double(digest?.scanned ?? 0))
        gauge("daily_run_papers", "The last run's digest: papers scanned and picked.", [("kind", "picked")]).set(to: Double(digest?.picked ?? 0))
        gauge("daily_run_tokens", "Tokens billed for the last run's day.", [("kind", "prompt")]).set(to: Double(digest?.usage.promptTokens ?? 0))
        gauge("daily_run_tokens", "Tokens billed for the last run's day.", [("kind", "completion")]).set(to: Double(digest?.usage.completionTokens ?? 0))
        if let usage = digest?.usage {
            gauge("daily_run_cost", "What the last run's day's model calls cost (0 when prices are not configured).", [("currency", usage.currency)])
                .set(to: usage.cost ?? 0)
        }
        for state in Delivery.State.allCases {
            gauge("daily_run_deliveries", "The last run's day's deliveries, by state.", [("state", state.rawValue)])
                .set(to: Double(status.lastDeliveries[state] ?? 0))
        }
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)], unit: String = "") -> Gauge {
        registry.makeGauge(descriptor: Self.name(name, unit: unit, help: help), labels: labels)
    }

    /// A count kept in the store, shown as a counter: it only falls when `--forget` erases a
    /// reader's history, which Prometheus reads as a counter reset.
    private func count(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Int) {
        let counter = registry.makeCounter(descriptor: Self.name(name, unit: "total", help: help), labels: labels)
        counter.reset()
        counter.increment(by: Int64(value))
    }

    private static func name(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "paperpost", metricName: name, unitName: unit, helpText: help)
    }
}

/// `GET /metrics`, kept off the public internet: with `PAPERPOST_METRICS_TOKEN` set it asks for
/// that bearer token from anyone; without one it answers only a client on loopback whose
/// request carries no proxy header, since behind a reverse proxy on the same host every
/// public request also arrives from loopback.
struct MetricsEndpoint: Sendable {
    let metrics: SiteMetrics
    let status: @Sendable () async throws -> NewsletterStatus
    let token: String?

    func respond(_ request: Request, context: WebRequestContext) async throws -> Response {
        if let refusal = refusal(request, peer: context.peerAddress) { return refusal }
        let body = metrics.exposition(try await status())
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private func refusal(_ request: Request, peer: String?) -> Response? {
        if let token {
            let offered = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
            guard offered.isEqualInConstantTime(to: token) else {
                return Self.plain(
                    .unauthorized, "metrics need the bearer token set in PAPERPOST_METRICS_TOKEN\n",
                    extra: [.wwwAuthenticate: #"Bearer realm="paperpost metrics""#])
            }
            return nil
        }
        let proxied = ["Forwarded", "X-Forwarded-For", "X-Real-IP"].contains { request.headers[HTTPField.Name($0)!] != nil }
        guard let peer, Self.isLoopback(peer), !proxied else {
            return Self.plain(.forbidden, "metrics are served on loopback only; set PAPERPOST_METRICS_TOKEN to scrape them from elsewhere\n")
        }
        return nil
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.") || address.hasPrefix("::ffff:127.")
    }

    private static func plain(_ status: HTTPResponse.Status, _ text: String, extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Counts every request for ``SiteMetrics``, outside the error pages so that it sees the
/// status each client got.
struct RequestMetrics<Context: RequestContext>: RouterMiddleware {
    let metrics: SiteMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.recordRequest(
                route: context.endpointPath, method: request.method.rawValue, status: response.status.code, duration: .now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(route: context.endpointPath, method: request.method.rawValue, status: status, duration: .now - start)
            throw error
        }
    }
}
