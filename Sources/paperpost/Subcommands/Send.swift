import Synchronization
import ArgumentParser
import Foundation
import Mail
import PaperPostCore
import PaperPostStore

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a digest to every active subscriber, once.",
        discussion: """
            Every message is logged (paperpost deliveries). A rerun sends only what is not yet sent;
            temporary failures are deferred and retried with backoff, permanent ones are failed.
            After a crash, messages whose fate is unknown are reported and marked failed, or sent
            again with --resend-uncertain. Exit code 3 when some were deferred or failed.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var sending: SendingOptions

    @Option(help: "The digest's day (default: the latest).")
    var date: Day?

    @Flag(help: "Say what would be sent; change nothing.")
    var dryRun = false

    @Option(help: "Send at most this many messages.")
    var limit: Int?

    @Option(help: "Send only to this subscriber.")
    var only: String?

    @Flag(help: "Retry deferred messages now instead of at their scheduled time.")
    var retryDeferred = false

    @Flag(help: "After a crash, send again the messages whose outcome is unknown.")
    var resendUncertain = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        var settings = try await global.settings()
        let transport = try sending.transport(&settings)
        let options = SendOptions(
            day: date, dryRun: dryRun, limit: limit, only: try only.map { try EmailAddress($0) },
            retryDeferred: retryDeferred, resendUncertain: resendUncertain)
        // The lanes, the log writer, the queue filler and the heartbeat each hold a PostgreSQL connection at times.
        let report = try await global.withStores(settings, connections: settings.delivery.connections + 4) { stores in
            try await deliver(options, settings: settings, store: stores.sending, transport: transport)
        }
        if report.isPartial { throw ExitCode.partial }
    }
}

/// Flags shared by `send` and `daily`.
struct SendingOptions: ParsableArguments {
    @Option(help: "smtp or outbox (default: smtp when PAPERPOST_SMTP_URL is set, else outbox).")
    var transport: TransportKind?

    @Option(help: "SMTP connections in parallel (PAPERPOST_SMTP_CONNECTIONS).")
    var connections: Int?

    @Option(help: "At most this many messages per second (PAPERPOST_SEND_RATE).")
    var rate: Double?

    @Flag(help: "Allow plain-text SMTP (the same as PAPERPOST_SMTP_TLS=off): only for a local relay.")
    var insecure = false

    @Flag(help: "Mail over SMTP even though `paperpost check` reports a fail (a local test relay).")
    var forceUnsafe = false

    enum TransportKind: String, ExpressibleByArgument, CaseIterable {
        case smtp, outbox
    }

    func validate() throws {
        try SettingLimit.smtpConnections.validate(connections, flag: "--connections")
        try SettingLimit.sendRate.validate(rate, flag: "--rate")
    }

    /// - Parameter refusingUnsafe: whether a failing `paperpost check` stops an SMTP transport
    ///   (`send` and `daily`; `serve` mails only the confirmations people ask for).
    func transport(_ settings: inout Settings, refusingUnsafe: Bool = true) throws -> any MailTransport {
        settings.delivery.connections = connections ?? settings.delivery.connections
        settings.delivery.rate = rate ?? settings.delivery.rate
        if insecure { settings.delivery.tls = .off }
        switch transport ?? (settings.delivery.smtpURL == nil ? .outbox : .smtp) {
        case .outbox:
            return OutboxTransport(directory: settings.delivery.outboxDirectory)
        case .smtp:
            if refusingUnsafe { try Self.refuseUnsafe(settings, force: forceUnsafe) }
            do {
                let heloName = URL(string: settings.baseURL)?.host
                if settings.delivery.isRelayPool {
                    return try RelayPool(settings: settings.delivery, heloName: heloName) { Terminal.error($0) }
                }
                return try SMTPTransport(settings: settings.delivery, heloName: heloName)
            } catch let error as TransportError {
                throw ValidationError(error.description)
            }
        }
    }
}

/// Runs a send with a progress bar on a terminal and log lines otherwise, then prints the summary.
func deliver(_ options: SendOptions, settings: Settings, store: SendingStore, transport: any MailTransport) async throws -> SendReport {
    let progress = ProgressLine()
    let lastLine = Mutex(ContinuousClock.now - .seconds(10))
    let report = try await SendJob(settings: settings, store: store, transport: transport).run(options) { counts in
        let due = lastLine.withLock { last -> Bool in
            let interval: Duration = progress.isTerminal ? .milliseconds(100) : .seconds(10)
            guard ContinuousClock.now - last >= interval || counts.remaining == 0 else { return false }
            last = ContinuousClock.now
            return true
        }
        guard due else { return }
        let eta = counts.rate > 0 ? Int(Double(counts.remaining) / counts.rate) : 0
        let line = "sent \(counts.sent) · deferred \(counts.deferred) · failed \(counts.failed) · remaining \(counts.remaining) · "
            + String(format: "%.1f msg/s · ETA %d:%02d", counts.rate, eta / 60, eta % 60)
        if progress.isTerminal {
            progress.show(progress.bar(done: counts.done, of: counts.due) + " " + line)
        } else {
            Terminal.error(line)
        }
    }
    progress.clear()
    if report.dryRun {
        print("dry run for \(report.day) via \(report.transport): " + report.plan.filter { $0.1 > 0 }.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", "))
        return report
    }
    if !report.uncertain.isEmpty {
        let action = report.resentUncertain ? "sent again" : "marked failed (uncertain after crash); use --resend-uncertain to send them again"
        Terminal.error("\(report.uncertain.count) message(s) were being sent when a previous run stopped; \(action): "
            + report.uncertain.map(\.email).joined(separator: ", "))
    }
    if let reason = report.stoppedEarly {
        Terminal.error("stopped early: \(reason); \(report.deferredUnsent) message(s) not attempted were deferred to the next run. "
            + "Check PAPERPOST_SMTP_URL and the relay, then run 'paperpost send' again")
    }
    let counts = report.progress
    // Rows a crashed run left uncertain and this run marked failed are failures of this send too.
    let failedUncertain = report.resentUncertain ? 0 : report.uncertain.count
    print("sent \(report.day) via \(report.transport): \(counts.sent) sent, \(counts.deferred + report.deferredUnsent) deferred, "
        + "\(counts.failed + failedUncertain) failed" + (failedUncertain > 0 ? " (\(failedUncertain) uncertain after a crash)" : "")
        + ", \(counts.skipped) skipped in \(String(format: "%.1f", counts.elapsed.seconds)) s"
        + (report.enqueued > 0 ? " (\(report.enqueued) new in the log)" : ""))
    if let pool = transport as? RelayPool {
        for relay in pool.report {
            print("  relay \(relay.name): \(relay.accepted) accepted"
                + (relay.rests > 0 ? ", rested \(relay.rests) time(s) (the last after: \(relay.lastFailure ?? "?"))" : ""))
        }
    }
    return report
}

