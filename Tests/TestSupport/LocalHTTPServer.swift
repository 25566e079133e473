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
        guard let url = URL(string: url("/__requests")) else {
            throw LocalHTTPServerError.badURL(baseURL)
        }
        let (data, _) = try await URLSession.shared.data(from: url)
        return try JSONDecoder().decode([RecordedRequest].self, from: data)
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

    public var description: String {
        switch self {
        case .didNotStart(let line, let status):
            "fixture_http_server.py did not announce its port (first line: \(line ?? "none"), exit status \(status)); see its stderr above"
        case .badURL(let url):
            "not a URL: \(url)"
        }
    }
}
