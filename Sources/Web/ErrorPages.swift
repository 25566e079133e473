import HTTPTypes
import Hummingbird
import Logging

/// Turns whatever a handler throws into a short page in the site's layout: a 404 for an unknown
/// address, a 413 for a body over the limit, a 500 for anything else. Without it Hummingbird
/// answers an error outside the middleware chain, with an empty body and without the
/// ``SecurityHeaders``. A 500 page says only that something failed: the error itself may name
/// tables and files, so it goes to the log (with the path, never the query and its tokens).
struct ErrorPages<Context: RequestContext>: RouterMiddleware {
    let site: Site

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let response = page(for: error, request: request, context: context)
            return request.method == .head ? response.createHeadResponse() : response
        }
    }

    private func page(for error: any Error, request: Request, context: Context) -> Response {
        let status: HTTPResponse.Status
        var headers: HTTPFields = [:]
        switch error {
        case let error as HTTPError:
            status = error.status
            headers = error.headers
        case let error as any HTTPResponseError:
            status = error.status
        default:
            status = .internalServerError
        }
        if status.kind == .serverError {
            context.logger.error(
                "request failed", metadata: ["method": .string(request.method.rawValue), "path": .string(request.uri.path), "error": .string("\(error)")])
        }
        let language = Site.language(request)
        let text = WebText.for(language).errorPage(status.code)
        var response = site.message(language, heading: text.title, paragraphs: [text.message], status: status)
        let pageFields = Set(response.headers.map(\.name))
        response.headers.append(contentsOf: headers.filter { !pageFields.contains($0.name) && $0.name != .contentLength })
        return response
    }
}
