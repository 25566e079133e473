import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mail
import PaperPostCore
import PaperPostStore

/// The web app on one SQLite file (see ``buildApplication(settings:stores:transport:host:port:logger:)``).
public func buildApplication(
    settings: Settings, database: PaperPostDatabase, transport: any MailTransport, host: String, port: Int,
    logger: Logger = Logger(label: "paperpost.web")
) async throws -> some ApplicationProtocol {
    try await buildApplication(
        settings: settings, stores: try WebStores.sqlite(database, settings: settings), transport: transport, host: host, port: port,
        logger: logger)
}

/// The web app, built from values so that tests build it directly: the settings, the stores,
/// and the transport that carries confirmation mail (the same one `send` would use).
///
/// - Throws: ``RenderingError`` when the page or notice templates cannot be loaded.
public func buildApplication(
    settings: Settings, stores: WebStores, transport: any MailTransport, host: String, port: Int,
    logger: Logger = Logger(label: "paperpost.web")
) async throws -> some ApplicationProtocol {
    let site = try await Site(settings: settings, stores: stores, transport: transport)
    // A HEAD is answered by the GET's handler with the body left off: every page a GET shows.
    let router = Router(context: WebRequestContext.self, options: .autoGenerateHeadEndpoints)
    let metrics = SiteMetrics()
    router.add(middleware: RequestMetrics(metrics: metrics))
    router.add(middleware: RequestLog())
    router.add(middleware: SecurityHeaders())
    router.add(middleware: ErrorPages(site: site))
    router.get("healthz") { _, _ in "ok\n" }
    let metricsEndpoint = MetricsEndpoint(metrics: metrics, status: stores.status, token: settings.web.metricsToken)
    router.get("metrics") { request, context in try await metricsEndpoint.respond(request, context: context) }
    router.get("/") { request, _ in try await site.home(request) }
    router.post("subscribe") { request, context in try await site.subscribe(request, context: context) }
    router.get("confirm") { request, _ in try await site.confirmPage(request) }
    router.post("confirm") { request, context in try await site.confirm(request, context: context) }
    router.get("preferences") { request, _ in try await site.preferencesPage(request) }
    router.post("preferences") { request, context in try await site.changePreferences(request, context: context) }
    router.get("unsubscribe") { request, _ in try await site.unsubscribePage(request) }
    router.post("unsubscribe") { request, context in try await site.unsubscribe(request, context: context) }
    router.post("unsubscribe/undo") { request, _ in try await site.undoUnsubscribe(request) }
    router.post("resubscribe") { request, _ in try await site.resubscribe(request) }
    router.post("link") { request, context in try await site.freshLink(request, context: context) }
    router.get("feedback") { request, _ in try await site.feedbackPage(request) }
    router.post("feedback") { request, _ in try await site.recordFeedback(request) }
    router.post("feedback/undo") { request, _ in try await site.undoFeedback(request) }
    router.get("archive") { request, _ in try await site.archive(request) }
    router.get("edition/:day") { request, context in try await site.readerEdition(request, day: context.parameters.get("day") ?? "") }
    router.get("archive/:day") { request, context in try await site.edition(request, day: context.parameters.get("day") ?? "") }
    router.get("feed.xml") { _, _ in try await site.feed() }
    return Application(
        router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil), logger: logger)
}

/// Each request's context: Hummingbird's, the client's address (for rate limits), and a body
/// limit of 16 KiB, far above any form here.
public struct WebRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address; behind a proxy see ``WebSettings/trustForwardedFor``.
    public let peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { 16 * 1024 }
}

/// Every page's headers: no scripts, no framing, no referrer, no sniffing. Error pages get them
/// too, since ``ErrorPages`` (inside this) turns every thrown error into a response.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return response
    }
}

/// One log line per request: method, path, status and time taken. Written here rather than with
/// Hummingbird's `LogRequestsMiddleware`, which logs the whole URI: the query carries the
/// tokens of emailed links, and a token in a log file is a working unsubscribe button. Errors
/// reach it as the pages ``ErrorPages`` made of them (which also logs what failed).
struct RequestLog<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code), "ms": .stringConvertible((ContinuousClock.now - start).wholeMilliseconds),
            ])
        return response
    }
}
