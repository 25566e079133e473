import Crypto
import Foundation
import PaperPostCore
import PostgresNIO

extension PostgresDatabase {
    /// The key that signs every emailed link: `PAPERPOST_SECRET` when set, else the key kept in
    /// the database (copied there by `paperpost migrate`, or made on first use), so that every
    /// sender and web server sharing the database signs and checks links alike.
    public func linkKey(_ settings: Settings) async throws -> SymmetricKey {
        if let secret = settings.mail.secret {
            return SymmetricKey(data: Data(secret.utf8))
        }
        var generator = SystemRandomNumberGenerator()
        let fresh = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return try await pooledTransaction { connection in
            // Whoever inserts first wins; everyone reads the row that stayed.
            try await run(
                "INSERT INTO link_secret (id, key) VALUES (1, \(ByteBuffer(bytes: fresh))) ON CONFLICT (id) DO NOTHING", on: connection)
            guard let stored = try await run("SELECT key FROM link_secret WHERE id = 1", on: connection).first else {
                throw PostgresStoreError.query(location, "the link-signing key could not be stored in link_secret")
            }
            return SymmetricKey(data: Data(buffer: try stored.decode(ByteBuffer.self)))
        }
    }
}
