import ArgumentParser
import Foundation
import Mail
import PaperPostCore

struct DKIM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim",
        abstract: "Make DKIM keys and show the DNS records that publish them.",
        subcommands: [Keygen.self])

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new RSA-2048 key (and optionally an Ed25519 key), mode 0600, and print the TXT records to publish.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "The selector: the DNS name becomes <selector>._domainkey.<domain>. Use a new one for each key (e.g. 2026a).")
        var selector: String

        @Option(help: "Where to write the keys (default: the database's directory).")
        var directory: String?

        @Flag(help: "Also write an Ed25519 key for a second signature (RFC 8463).")
        var ed25519 = false

        func run() async throws {
            let settings = try await global.settings()
            guard !selector.isEmpty, selector.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw ValidationError("--selector '\(selector)' is not a DNS label such as 2026a")
            }
            let domain = settings.mail.dkim?.domain ?? settings.mail.from.address.domain.lowercased()
            if directory == nil, settings.storesInPostgreSQL {
                throw ValidationError("the store is PostgreSQL, so there is no database directory to write the keys to: give --directory")
            }
            let directory = directory ?? URL(fileURLWithPath: settings.databasePath).deletingLastPathComponent().path
            let written = try DKIMKeyGenerator.generate(selector: selector, directory: directory, ed25519: ed25519)
            print("Publish in DNS (TXT):")
            for key in written {
                print("  \(key.selector)._domainkey.\(domain). IN TXT \(DKIMKeyGenerator.zoneStrings(key.record))")
            }
            print("Then set:")
            for key in written {
                print("  \(key.variable)=\(key.path)")
            }
            print("  PAPERPOST_DKIM_SELECTOR=\(selector)")
        }
    }
}
