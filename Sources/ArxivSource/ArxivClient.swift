import Curl
import Foundation
import PaperPostCore

/// Why the day's papers could not be had. None of these is ever turned into an empty day.
public enum FetchError: Error, Sendable, CustomStringConvertible {
    /// arXiv (or the configured mirror) did not give a usable answer.
    case unreachable(HTTPError)
    /// An answer came, but it is not a document PaperPost can read.
    case badDocument(source: String, ArxivParseError)
    /// A saved document given with `--feed` or `--details` cannot be read.
    case unreadableFile(path: String, reason: String)
    /// The live feed only holds arXiv's latest announcement, which is later than the day asked for.
    case dayNotInFeed(requested: Day, feedDay: Day)

    public var description: String {
        switch self {
        case .unreachable(let error):
            if case .tooLarge = error {
                "arXiv's answer was refused, nothing was recorded: \(error)"
            } else {
                "arXiv could not be reached, nothing was recorded: \(error)"
            }
        case .badDocument(let source, let error):
            "\(source): \(error); nothing was recorded"
        case .unreadableFile(let path, let reason):
            "cannot read '\(path)': \(reason)"
        case .dayNotInFeed(let requested, let feedDay):
            "arXiv's feed holds the announcement of \(feedDay), not of \(requested); "
                + "for an earlier day, ingest a saved feed with --feed FILE"
        }
    }
}

/// Talks to arXiv as its terms ask: one request at a time, the next one starting at least
/// `delay` after the previous one ended, with a User-Agent that names PaperPost and where it runs.
///
/// Callers await each request before making the next (the fetch does); the actor keeps the
/// pause even if two callers share one client.
public actor ArxivClient {
    /// arXiv's API takes at most this many ids per query.
    public static let batchSize = 100

    private let http: HTTPClient
    private let rssURL: String
    private let apiURL: String
    private let delay: Duration
    private var nextSlot = ContinuousClock.now

    public init(settings: Settings, version: String) {
        self.rssURL = settings.arxivRSSURL
        self.apiURL = settings.arxivAPIURL
        self.delay = settings.arxivDelay
        self.http = HTTPClient(
            userAgent: "PaperPost/\(version) (+\(settings.baseURL))",
            retryPolicy: RetryPolicy(maxAttempts: 4, baseDelay: max(settings.arxivDelay, .milliseconds(100)), maxDelay: .seconds(60)),
            maxBodyBytes: settings.httpMaxBytes)
    }

    /// Where the announcement feed for the categories is read from, to name it in errors.
    public nonisolated func feedURL(categories: [String]) -> String {
        rssURL + "/" + categories.joined(separator: "+")
    }

    /// The announcement feed for the categories (`…/atom/cs.AI+cs.CL`).
    ///
    /// arXiv sometimes answers 406 with a perfectly good feed in the body; such a body is used.
    public func announcementFeed(categories: [String]) async throws(FetchError) -> AnnouncementFeed {
        let url = feedURL(categories: categories)
        let response = try await get(url) { response in
            response.status == 406 && (try? AnnouncementFeed.parse(response.body)) != nil
        }
        do {
            return try AnnouncementFeed.parse(response.body)
        } catch {
            throw .badDocument(source: url, error)
        }
    }

    /// Details of up to ``batchSize`` papers from the export API.
    public func details(ids: [String]) async throws(FetchError) -> [Paper] {
        precondition(ids.count <= Self.batchSize, "arXiv's API takes at most \(Self.batchSize) ids at once")
        var components = URLComponents(string: apiURL)!
        components.queryItems = [
            URLQueryItem(name: "id_list", value: ids.joined(separator: ",")),
            URLQueryItem(name: "max_results", value: String(ids.count)),
        ]
        let url = components.string!
        let response = try await get(url) { $0.status == 400 }
        do {
            return try ArxivAPIResponse.parse(response.body).papers
        } catch {
            throw .badDocument(source: url, error)
        }
    }

    /// One request in its turn. `alsoAccept` lets a non-2xx answer through when its body is
    /// what the caller needs (arXiv's 406 with a feed, the API's 400 with its error feed).
    private func get(_ url: String, alsoAccept: @escaping @Sendable (HTTPResponse) -> Bool) async throws(FetchError) -> HTTPResponse {
        let slot = max(ContinuousClock.now, nextSlot)
        nextSlot = slot + delay
        try? await Task.sleep(until: slot, clock: .continuous)
        defer { nextSlot = max(nextSlot, ContinuousClock.now + delay) }
        do {
            return try await http.send(HTTPRequest(method: .get, url: url), accept: alsoAccept)
        } catch {
            throw .unreachable(error)
        }
    }
}
