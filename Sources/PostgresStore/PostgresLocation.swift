import Foundation
import PostgresNIO

/// Where a PostgreSQL database is, from the URL an operator writes
/// (`postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…`, as libpq spells it).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode`, as far as PostgresNIO can follow it.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// - Throws: ``PostgresStoreError/badURL(_:reason:)`` naming the part that is wrong.
    public init(url: String) throws(PostgresStoreError) {
        let shown = Self.withoutPassword(url)
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .badURL(shown, reason: "it is not a URL")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw .badURL(shown, reason: "the scheme must be postgres:// or postgresql://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .badURL(shown, reason: "it names no host (postgres://USER@HOST:PORT/DATABASE)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw .badURL(shown, reason: "it names no user (postgres://USER@HOST:PORT/DATABASE)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw .badURL(shown, reason: "it names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw .badURL(
                        shown,
                        reason: "sslmode must be one of " + TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                            + ", not '\(item.value ?? "")'")
                }
                tls = mode
            default:
                throw .badURL(shown, reason: "unknown parameter '\(item.name)' (only sslmode is understood)")
            }
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password
        self.database = database
        self.tls = tls
    }

    /// The URL without its password, for messages and logs.
    public var description: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = user
        components.password = password == nil ? nil : "***"
        components.host = host
        components.port = port
        components.path = "/" + database
        if tls != .prefer { components.queryItems = [URLQueryItem(name: "sslmode", value: tls.rawValue)] }
        return components.string ?? "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// The TLS `sslmode` asks for, `nil` for none. `prefer` encrypts when the server offers TLS
    /// without checking its certificate, as libpq does; `require` insists on TLS and checks the
    /// certificate against the system's roots and the host name (libpq's `verify-full`), since
    /// encryption to an unchecked peer protects nothing from the one in the middle.
    private var clientTLS: TLSConfiguration? {
        switch tls {
        case .disable:
            return nil
        case .prefer:
            var unchecked = TLSConfiguration.makeClientConfiguration()
            unchecked.certificateVerification = .none
            return unchecked
        case .require:
            return .makeClientConfiguration()
        }
    }

    func configuration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            try clientTLS.map { settings in
                let context = try NIOSSLContext(configuration: settings)
                return self.tls == .require ? .require(context) : .prefer(context)
            } ?? .disable
        return PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// The same for a pool of `connections`.
    func poolConfiguration(connections: Int) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            clientTLS.map { self.tls == .require ? .require($0) : .prefer($0) } ?? .disable
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = connections
        // No timers per lease: the pool schedules an idle timeout for connections above the
        // minimum and a keep-alive for every connection each time one comes back, and each timer
        // is a task sleeping until its deadline (a minute) even when the connection is leased
        // again at once. A send leases a connection per commit, thousands a second: 109,000 such
        // tasks (21 MB) were alive at the peak of a 100,000-message send, and its memory grew with
        // the list. All connections stay open for the command's run instead, and none needs a
        // keep-alive: every command is short, or (`serve`) busy.
        configuration.options.minimumConnections = connections
        configuration.options.keepAliveBehavior = nil
        // Prepared statements are planned for their values each time. A plan cached for all
        // values is made while a day's delivery rows are few and kept as they grow: the first
        // send of 100,000 after a copy took 106 s with it, 59 s without.
        configuration.options.additionalStartupParameters = [("plan_cache_mode", "force_custom_plan")]
        return configuration
    }

    /// `url` with any password masked, for an error about a URL that may not even parse.
    static func withoutPassword(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://"), scheme.upperBound < at else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return url.replacingCharacters(in: url.index(after: colon)..<at, with: "***")
    }
}
