import struct Crypto.SymmetricKey
import PaperPostCore
import PaperPostStore

/// What a send reads and writes, on whichever engine holds the installation: the digest, the
/// readers, the delivery log senders share, and the key that signs the links in each message.
public struct SendingStore: Sendable {
    public var digests: any DigestArchive
    public var recipients: any RecipientDirectory
    public var deliveries: any DeliveryLog
    /// Loaded once a digest is found: on SQLite the first load writes a key file beside the
    /// database, which a send with nothing to mail has no reason to do.
    public var linkKey: @Sendable () async throws -> SymmetricKey

    public init(
        digests: any DigestArchive, recipients: any RecipientDirectory, deliveries: any DeliveryLog,
        linkKey: @escaping @Sendable () async throws -> SymmetricKey
    ) {
        self.digests = digests
        self.recipients = recipients
        self.deliveries = deliveries
        self.linkKey = linkKey
    }

    /// The stores of a SQLite installation.
    public init(sqlite database: PaperPostDatabase, settings: Settings) {
        self.init(
            digests: CurationStore(database: database), recipients: SubscriberStore(database: database, settings: settings),
            deliveries: DeliveryStore(database: database), linkKey: { try ServerSecret.load(settings) })
    }
}
