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
            files, a Maildir (--maildir: reads new/, moves each recorded message to cur/) or an
            mbox file (--mbox). Reading the same message twice changes nothing. Messages that are
            none of these are kept in PAPERPOST_INBOUND_KEEP (and flagged in a Maildir).
            --dry-run prints what each message is, as JSON, and changes nothing.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("A Maildir to read (its new/ messages).", valueName: "dir"))
    var maildir: String?

    @Option(help: ArgumentHelp("An mbox file to read.", valueName: "file"))
    var mbox: String?

    @Flag(help: "Classify and print JSON; change nothing.")
    var dryRun = false

    @Option(help: "table, csv or json (what was recorded).")
    var format: OutputFormat = .table

    @Argument(help: ArgumentHelp("Message files (default: one message on stdin).", valueName: "file"))
    var files: [String] = []

    func validate() throws {
        if [maildir != nil, mbox != nil, !files.isEmpty].filter({ $0 }).count > 1 {
            throw ValidationError("give message files, --maildir or --mbox, not more than one")
        }
    }

    func run() async throws {
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

        let (database, settings) = try await global.database()
        let processor = InboundProcessor(
            settings: settings, serverSecret: try ServerSecret.load(settings), bounces: BounceStore(database: database),
            subscribers: SubscriberStore(database: database, settings: settings))
        var listing = Listing(columns: ["origin", "kind", "address", "status", "hard", "score", "subscriber_status", "result"])
        for message in messages {
            let outcome = try await processor.process(message.bytes)
            try source?.markDone(message, flagged: outcome.report.kind == .other)
            let recording = outcome.recording
            let result =
                recording?.duplicate == true ? "already recorded"
                : outcome.keptAt.map { "kept at \($0)" }
                ?? (recording?.applied.isEmpty == false ? "recorded" : "names no subscriber")
            if let applied = recording?.applied, !applied.isEmpty {
                for change in applied {
                    let recipient = outcome.report.recipients.first
                    listing.append([
                        .text(message.origin), .text(outcome.report.kind.rawValue), .text(change.email), .text(recipient?.status),
                        .flag(change.kind == .hard), .decimal(change.scoreAfter), .text(change.statusAfter.rawValue), .text(result),
                    ])
                }
            } else {
                let recipient = outcome.report.recipients.first
                listing.append([
                    .text(message.origin), .text(outcome.report.kind.rawValue), .text(recipient?.address), .text(recipient?.status),
                    .flag(recipient?.hard ?? false), .text(nil), .text(nil), .text(result),
                ])
            }
            if outcome.report.kind == .other {
                Terminal.error("\(message.origin): not a bounce, complaint, auto-reply or unsubscribe request; kept at \(outcome.keptAt ?? "?")")
            }
        }
        Terminal.write(listing.rendered(as: format))
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
