import ArgumentParser
import Foundation
import Mail
import PaperPostCore
import PaperPostStore
import Rendering

struct Preview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the email a subscriber would receive for a digest.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The subscriber's email address.")
    var email: String

    @Option(help: "The arXiv mailing day (default: the latest digest).")
    var date: Day?

    @Option(help: "eml (the whole MIME message), html or text.")
    var format: PreviewFormat = .eml

    @Option(help: "Write to this file instead of standard output.")
    var output: String?

    enum PreviewFormat: String, ExpressibleByArgument, CaseIterable {
        case eml, html, text
    }

    func run() async throws {
        let settings = try await global.settings()
        let address = try settings.address(email)
        let (recipient, digest, key) = try await global.withStores(settings, connections: 1) { stores in
            guard let recipient = try await stores.subscribers.recipients(only: address, includingInactive: true).first else {
                throw StoreError.notFound(email: address.value)
            }
            if recipient.status != .active {
                Terminal.error("note: \(address) is \(recipient.status.rawValue) and receives no digest; this is what they would get if active")
            }
            return (recipient, try await loadDigest(date, papers: stores.papers, digests: stores.curation), try await stores.sending.linkKey())
        }
        let composer = try EmailComposer(digest: digest, recipients: [recipient], settings: settings, serverSecret: key)
        var buffer: [UInt8] = []
        let bytes: [UInt8]
        switch format {
        case .eml:
            let date = MessageDate()
            guard composer.compose(for: recipient, date: date, into: &buffer) != nil else { return noPapers(digest, recipient) }
            // Signed as `send` would sign it, so the preview can be checked with a DKIM verifier.
            let signer = try settings.mail.dkim.map { dkim throws(DKIMError) in try DKIMSigner(settings: dkim, from: settings.mail.from.address) }
            bytes = try signer?.signed(buffer, at: date.date) ?? buffer
        case .html:
            guard let html = composer.previewHTML(for: recipient) else { return noPapers(digest, recipient) }
            bytes = Array(html.utf8)
        case .text:
            guard let text = composer.previewText(for: recipient) else { return noPapers(digest, recipient) }
            bytes = Array(text.utf8)
        }
        if let output {
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw ValidationError("cannot write '\(output)': \((error as NSError).localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }

    private func noPapers(_ digest: Digest, _ recipient: Recipient) {
        Terminal.error("\(recipient.email) gets no email for \(digest.day): nothing in \(recipient.categories.joined(separator: ", ")) was announced")
    }
}

/// The digest of a day, or the latest one.
func loadDigest(_ day: Day?, papers: any PaperArchive, digests: any DigestArchive) async throws -> Digest {
    let latest = try await papers.latestDay()
    guard let day = day ?? latest, let digest = try await digests.digest(on: day) else {
        throw ValidationError("no digest for \(day.map(\.description) ?? "any day") yet; run 'paperpost curate' first")
    }
    return digest
}
