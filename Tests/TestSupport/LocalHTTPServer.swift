import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real HTTP server on 127.0.0.1 that plays scripted responses, backed by
/// `Tests/Support/fixture_http_server.py`. Tests talk to it over real sockets, so retries,
/// timeouts, compression and redirects are exercised end to end without leaving the machine.
///
/// Always pair it with `defer { server.stop() }`. If the test process dies instead, the server
/// sees its stdin close and exits on its own.
public final class LocalHTTPServer: Sendable {
    public let port: Int
    /// "http://127.0.0.1:PORT", without a trailing slash.
    public let baseURL: String
    private let process: ScriptProcess
    private let directory: URL

    /// The fixture script, found next to this file so tests work from any working directory.
    public static let scriptURL = ScriptProcess.supportScript("fixture_http_server.py")

    /// Starts the server and waits until it listens.
    /// - Parameter routes: request target ("/path" or "/path?query") to the responses it gets
    ///   in turn; the last one repeats.
    public init(routes: [String: [FixtureResponse]]) async throws {
        directory = try TemporaryDirectory.make(prefix: "fixture-http")
        let routesFile = directory.appendingPathComponent("routes.json")
        do {
            try JSONEncoder().encode(routes).write(to: routesFile)
            process = try await ScriptProcess(script: Self.scriptURL, arguments: ["--routes", routesFile.path])
        } catch ScriptProcessError.didNotAnnounce(let firstLine, let exitStatus) {
            try? FileManager.default.removeItem(at: directory)
            throw LocalHTTPServerError.didNotStart(firstLine: firstLine, exitStatus: exitStatus)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        port = process.port
        baseURL = "http://127.0.0.1:\(port)"
    }

    deinit {
        stop()
    }

    /// `path` starts with "/" and may carry a query.
    public func url(_ path: String) -> String {
        baseURL + path
    }

    /// Every request the server has received so far, in arrival order.
    public func requests() async throws -> [RecordedRequest] {
        try await requests(atLeast: 0, timeout: .zero)
    }

    /// Returns once the server has received at least `count` requests (all of them, in arrival
    /// order): the state to wait for before acting on a request in flight, however slow the
    /// machine. The server itself waits, so nothing polls. Gives up after `timeout`.
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(120)) async throws -> [RecordedRequest] {
        try await requests(atLeast: count, timeout: timeout)
    }

    private func requests(atLeast count: Int, timeout: Duration) async throws -> [RecordedRequest] {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        guard let url = URL(string: url("/__requests?count=\(count)&timeout=\(seconds)")) else {
            throw LocalHTTPServerError.badURL(baseURL)
        }
        var request = URLRequest(url: url)
        request.timeoutInterval = seconds + 60
        let (data, response) = try await URLSession.shared.data(for: request)
        let recorded = try JSONDecoder().decode([RecordedRequest].self, from: data)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw LocalHTTPServerError.timedOut(waitingFor: count, received: recorded.count, timeout: timeout)
        }
        return recorded
    }

    /// Kills the server and removes its files. Safe to call more than once.
    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

public enum LocalHTTPServerError: Error, CustomStringConvertible {
    case didNotStart(firstLine: String?, exitStatus: Int32)
    case badURL(String)
    case timedOut(waitingFor: Int, received: Int, timeout: Duration)

    public var description: String {
        switch self {
        case .didNotStart(let line, let status):
            "fixture_http_server.py did not announce its port (first line: \(line ?? "none"), exit status \(status)); see its stderr above"
        case .badURL(let url):
            "not a URL: \(url)"
        case .timedOut(let count, let received, let timeout):
            "fixture_http_server.py received \(received) of the \(count) request(s) waited for within \(timeout)"
        }
    }
}
