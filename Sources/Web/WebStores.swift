import PaperPostCore
import PaperPostStore
import struct Crypto.SymmetricKey

/// What the web app reads and changes, on either engine: several `serve` replicas on
/// PostgreSQL share the list, the editions and the sign-up limits.
public struct WebStores: Sendable {
    public var subscribers: any SubscriberRegistry
    public var editions: any EditionArchive
    public var papers: any PaperArchive
    public var limits: any RateLimiter
    /// The figures `GET /metrics` shows, read together.
    public var status: @Sendable () async throws -> NewsletterStatus
    /// The key that signs emailed links (checked together with `PAPERPOST_SECRET_PREVIOUS`).
    public var linkKey: SymmetricKey

    public init(
        subscribers: any SubscriberRegistry, editions: any EditionArchive, papers: any PaperArchive, limits: any RateLimiter,
        status: @escaping @Sendable () async throws -> NewsletterStatus, linkKey: SymmetricKey
    ) {
        self.subscribers = subscribers
        self.editions = editions
        self.papers = papers
        self.limits = limits
        self.status = status
        self.linkKey = linkKey
    }

    /// The stores of an installation in one SQLite file.
    public static func sqlite(_ database: PaperPostDatabase, settings: Settings) throws -> WebStores {
        let key = try ServerSecret.load(settings)
        return WebStores(
            subscribers: SubscriberStore(database: database, settings: settings), editions: CurationStore(database: database),
            papers: PaperStore(database: database), limits: RateLimitStore(database: database, serverSecret: key),
            status: { try await NewsletterStatus.read(from: database) }, linkKey: key)
    }
}
