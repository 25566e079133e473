import Crypto
import Foundation
import PaperPostCore

/// The key that signs every emailed link.
///
/// `PAPERPOST_SECRET` when set; otherwise 32 random bytes generated once into `secret` beside
/// the database, readable by its owner only (0600), so that links keep working across restarts
/// and the CLI and the web server agree without configuration.
public enum ServerSecret {
    /// The key that signs, then the previous ones that are still accepted when checking.
    public static func verificationKeys(_ settings: Settings) throws -> [SymmetricKey] {
        verificationKeys(signing: try load(settings), settings)
    }

    /// `key`, then the previous ones that are still accepted when checking (a PostgreSQL
    /// installation keeps its key in the database).
    public static func verificationKeys(signing key: SymmetricKey, _ settings: Settings) -> [SymmetricKey] {
        [key] + settings.mail.previousSecrets.map { SymmetricKey(data: Data($0.utf8)) }
    }

    public static func load(_ settings: Settings) throws -> SymmetricKey {
        if let secret = settings.mail.secret {
            return SymmetricKey(data: Data(secret.utf8))
        }
        let path = file(besideDatabase: settings.databasePath)
        if let existing = FileManager.default.contents(atPath: path), existing.count >= 32 {
            return SymmetricKey(data: existing)
        }
        let directory = (path as NSString).deletingLastPathComponent
        var generator = SystemRandomNumberGenerator()
        let bytes = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        // Written aside, then linked into place: if another process got there first, the link
        // fails and its secret is the one everybody uses.
        let temporary = directory + "/.secret-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown)
            }
            defer { try? FileManager.default.removeItem(atPath: temporary) }
            try? FileManager.default.linkItem(atPath: temporary, toPath: path)
        } catch {
            throw ConfigurationError("cannot write the link-signing secret to '\(path)': \(error); set PAPERPOST_SECRET instead")
        }
        guard let stored = FileManager.default.contents(atPath: path), stored.count >= 32 else {
            throw ConfigurationError("the link-signing secret '\(path)' is unreadable or too short; remove it or set PAPERPOST_SECRET")
        }
        return SymmetricKey(data: stored)
    }

    /// The key generated beside the SQLite database at `path`, if one was: what a copy of the
    /// installation must take along for links already mailed to keep working.
    public static func generatedKey(besideDatabase path: String) -> [UInt8]? {
        guard let bytes = FileManager.default.contents(atPath: file(besideDatabase: path)), bytes.count >= 32 else { return nil }
        return [UInt8](bytes)
    }

    private static func file(besideDatabase path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("secret").path
    }
}
