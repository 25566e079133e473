import ArgumentParser
import Foundation
import Inbound
import PaperPostCore
import PaperPostStore

struct InboundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbound",
        abstract: "Read bounces, complaints, auto-replies and unsubscribe requests, and record them.",
        discussion: """
            One message on stdin (for a Postfix pipe transport, procmail or .forward), message
            files, a Maildir (--maildir: reads new/, moves each recorded message to cur/), an
            mbox file (--mbox), or the IMAP or POP3 mailbox PAPERPOST_INBOUND_URL (--poll: deletes
            each message once recorded). Reading the same message twice changes nothing. Messages that
            are none of these are kept in PAPERPOST_INBOUND_KEEP (and flagged in a Maildir or
            the IMAP mailbox).
            --dry-run prints what each message is, as JSON, and changes nothing.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("A Maildir to read (its new/ messages).", valueName: "dir"))
    var maildir: String?

    @Option(help: ArgumentHelp("An mbox file to read.", valueName: "file"))
    var mbox: String?

    @Flag(help: "Read the IMAP or POP3 mailbox PAPERPOST_INBOUND_URL.")
    var poll = false

    @Flag(help: "Classify and print JSON; change nothing.")
    var dryRun = false

    @Option(help: "table, csv or json (what was recorded).")
    var format: OutputFormat = .table

    @Argument(help: ArgumentHelp("Message files (default: one message on stdin).", valueName: "file"))
    var files: [String] = []

    func validate() throws {
        if [maildir != nil, mbox != nil, !files.isEmpty, poll].filter({ $0 }).count > 1 {
            throw ValidationError("give message files, --maildir, --mbox or --poll, not more than one")
        }
        if poll && dryRun { throw ValidationError("--dry-run reads files or stdin, not the IMAP mailbox") }
    }

    func run() async throws {
        if poll { return try await pollMailbox() }
        let source: MailboxSource? = maildir.map(MailboxSource.maildir) ?? mbox.map(MailboxSource.mbox)
        var messages: [MailboxSource.Message]
        do {
            if let source {
                messages = try source.messages()
            } else if files.isEmpty {
                messages = [MailboxSource.Message(bytes: Array(FileHandle.standardInput.readDataToEndOfFile()), origin: "stdin")]
            } else {
                messages = try files.map { file in
                    guard let data = FileManager.default.contents(atPath: file) else {
                        throw ValidationError("\(file): cannot be read (no such file or no permission)")
                    }
                    return MailboxSource.Message(bytes: Array(data), origin: file)
                }
            }
        } catch let error as MailboxSource.SourceError {
            throw ValidationError(error.description)
        }
        if messages.contains(where: { $0.bytes.isEmpty }), let empty = messages.first(where: { $0.bytes.isEmpty }) {
            throw ValidationError("\(empty.origin): empty message")
        }

        if dryRun {
            let classifier = InboundClassifier(unsubscribeAddress: try await global.settings().mail.unsubscribeMailto?.value)
            let reports = messages.map { DryRunLine(origin: $0.origin, report: classifier.classify($0.bytes)) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Terminal.write(String(decoding: try encoder.encode(reports), as: UTF8.self) + "\n")
            return
        }

        try await withProcessor { processor in
            var listing = Self.listing
            for message in messages {
                let outcome = try await processor.process(message.bytes)
                try source?.markDone(message, flagged: outcome.report.kind == .other)
                Self.report(outcome, origin: message.origin, into: &listing)
            }
            Terminal.write(listing.rendered(as: format))
        }
    }

    /// Reads the IMAP mailbox: each message is deleted (or flagged, when a person should read
    /// it) only after it is recorded.
    func pollMailbox() async throws {
        let settings = try await global.settings()
        let session: RemoteMailbox.Session
        do { session = try RemoteMailbox(settings: settings.inbound).open() } catch { throw ValidationError(error.description) }
        try await withProcessor { processor in
            var listing = Self.listing
            var deleted = 0
            do {
                for uid in try await session.run({ session throws(RemoteMailbox.MailboxError) in try session.pending() }) {
                    let bytes = try await session.run { session throws(RemoteMailbox.MailboxError) in try session.fetch(uid: uid) }
                    let outcome = try await processor.process(bytes)
                    let flagged = outcome.report.kind == .other
                    try await session.run { session throws(RemoteMailbox.MailboxError) in try session.markDone(uid: uid, flagged: flagged) }
                    if !flagged { deleted += 1 }
                    Self.report(outcome, origin: "imap:\(uid)", into: &listing)
                }
                if deleted > 0 { try await session.run { session throws(RemoteMailbox.MailboxError) in try session.expunge() } }
            } catch {
                // What was recorded before the failure is reported; the rest stays in the mailbox.
                Terminal.write(listing.rendered(as: format))
                throw error
            }
            Terminal.write(listing.rendered(as: format))
        }
    }

    /// The processor on whichever engine `PAPERPOST_DB` names, for the length of `body`.
    func withProcessor(_ body: (InboundProcessor) async throws -> Void) async throws {
        let settings = try await global.settings()
        try await global.withStores(settings, connections: 2) { stores in
            let keys = ServerSecret.verificationKeys(signing: try await stores.sending.linkKey(), settings)
            try await body(InboundProcessor(settings: settings, serverSecrets: keys, bounces: stores.bounces, subscribers: stores.subscribers))
        }
    }

    static var listing: Listing {
        Listing(columns: ["origin", "kind", "address", "status", "hard", "score", "subscriber_status", "result"])
    }

    static func report(_ outcome: InboundProcessor.Outcome, origin: String, into listing: inout Listing) {
        let recording = outcome.recording
        let result =
            recording?.duplicate == true ? "already recorded"
            : outcome.keptAt.map { "kept at \($0)" }
            ?? (recording?.applied.isEmpty == false ? "recorded" : "names no subscriber")
        let recipient = outcome.report.recipients.first
        if let applied = recording?.applied, !applied.isEmpty {
            for change in applied {
                listing.append([
                    .text(origin), .text(outcome.report.kind.rawValue), .text(change.email), .text(recipient?.status),
                    .flag(change.kind == .hard), .decimal(change.scoreAfter), .text(change.statusAfter.rawValue), .text(result),
                ])
            }
        } else {
            listing.append([
                .text(origin), .text(outcome.report.kind.rawValue), .text(recipient?.address), .text(recipient?.status),
                .flag(recipient?.hard ?? false), .text(nil), .text(nil), .text(result),
            ])
        }
        if outcome.report.kind == .other {
            Terminal.error("\(origin): not a bounce, complaint, auto-reply or unsubscribe request; kept at \(outcome.keptAt ?? "?")")
        }
    }
}

/// One line of `--dry-run`: the report with where it came from.
struct DryRunLine: Encodable {
    var origin: String
    var report: InboundReport

    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(origin, forKey: .origin)
    }

    enum Key: String, CodingKey { case origin }
}
