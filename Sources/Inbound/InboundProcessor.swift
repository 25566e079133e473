import Crypto
import Foundation
import PaperPostCore
import PaperPostStore

/// Reads one inbound message and records what it says: classification, then the subscriber
/// (from the return-path token when there is one, a signed unsubscribe token, or the quoted
/// address), then one transaction in the store.
public struct InboundProcessor: Sendable {
    public struct Outcome: Sendable {
        public var report: InboundReport
        public var digest: String
        /// `nil` in a dry run and for messages that name nobody.
        public var recording: BounceRecording?
        /// Where an unclassified message was kept.
        public var keptAt: String?
    }

    let classifier: InboundClassifier
    let bounces: any BounceLedger
    let subscribers: any SubscriberRegistry
    let bounceAddress: EmailAddress?
    /// The current secret, then previous ones: what tokens are checked with.
    let serverSecrets: [SymmetricKey]
    let policy: BouncePolicy
    let keepDirectory: String

    public init(
        settings: Settings, serverSecrets: [SymmetricKey], bounces: any BounceLedger, subscribers: any SubscriberRegistry
    ) {
        classifier = InboundClassifier(unsubscribeAddress: settings.mail.unsubscribeMailto?.value)
        self.bounces = bounces
        self.subscribers = subscribers
        bounceAddress = settings.delivery.bounceAddress
        self.serverSecrets = serverSecrets
        policy = settings.delivery.bouncePolicy
        keepDirectory = settings.inbound.keepDirectory
    }

    /// Classifies without touching anything.
    public func classify(_ bytes: [UInt8]) -> InboundReport {
        classifier.classify(bytes)
    }

    public func process(_ bytes: [UInt8], now: Date = Date()) async throws -> Outcome {
        let report = classifier.classify(bytes)
        let digest = BounceStore.digest(of: bytes)
        var outcome = Outcome(report: report, digest: digest, recording: nil, keptAt: nil)
        if report.kind == .other {
            outcome.keptAt = try keep(bytes, digest: digest)
        }
        let events = try await events(for: report)
        outcome.recording = try await bounces.record(
            messageDigest: digest, kind: report.kind.rawValue, summary: summary(report), events: events, policy: policy, now: now)
        return outcome
    }

    /// The subscriber and digest named by a return-path token among the addresses the message
    /// was sent to; a forged or altered token names nobody.
    func returnPath(in report: InboundReport) -> ReturnPath? {
        guard let bounceAddress else { return nil }
        for address in report.envelopeRecipients {
            if let path = ReturnPath.parse(address, base: bounceAddress, keys: serverSecrets) { return path }
        }
        return nil
    }

    func events(for report: InboundReport) async throws -> [BounceEvent] {
        let token = returnPath(in: report)
        switch report.kind {
        case .bounce:
            if let token, let worst = report.recipients.first(where: \.hard) ?? report.recipients.first {
                return [event(worst, target: .subscriber(id: token.subscriberID, day: token.day))]
            }
            return report.recipients.map { event($0, target: .address($0.address, originalMessageID: report.originalMessageID)) }
        case .complaint:
            let targets: [BounceEvent.Target] =
                token.map { [.subscriber(id: $0.subscriberID, day: $0.day)] }
                ?? report.recipients.map { .address($0.address, originalMessageID: report.originalMessageID) }
            return targets.map {
                BounceEvent(target: $0, kind: .complaint, diagnostic: "complaint from \(report.from ?? "a feedback loop")", feedbackType: report.feedbackType)
            }
        case .unsubscribe:
            guard let text = report.unsubscribeToken, let claims = LinkToken(unverified: text), claims.purpose == .unsubscribe,
                let identity = try await subscribers.linkIdentity(id: claims.subscriberID),
                (try? LinkToken.verify(text, purpose: .unsubscribe, serverSecrets: serverSecrets, subscriberSecret: identity.secret)) != nil
            else { return [] }
            return [BounceEvent(target: .subscriber(id: claims.subscriberID, day: nil), kind: .unsubscribe, diagnostic: "mailto: unsubscribe request")]
        case .autoReply:
            let target: BounceEvent.Target? =
                token.map { .subscriber(id: $0.subscriberID, day: $0.day) }
                ?? report.from.flatMap { TextScanning.addresses(in: $0).first }.map { .address($0, originalMessageID: nil) }
            return target.map { [BounceEvent(target: $0, kind: .autoReply, diagnostic: report.subject)] } ?? []
        case .delivered, .other:
            return []
        }
    }

    private func event(_ recipient: BounceRecipient, target: BounceEvent.Target) -> BounceEvent {
        let kind: BounceEvent.Kind = recipient.hard ? .hard : recipient.permanent ? .soft : .delayed
        return BounceEvent(
            target: target, kind: kind, status: recipient.status, replyCode: recipient.replyCode.isEmpty ? nil : recipient.replyCode,
            diagnostic: "\(recipient.reason.rawValue): \(recipient.diagnostic)")
    }

    private func summary(_ report: InboundReport) -> String {
        ([report.kind.rawValue] + report.recipients.map { "\($0.address) \($0.status)" } + [report.subject ?? ""]).joined(separator: "; ")
    }

    /// Writes an unclassified message where a person will read it: named by its digest, so
    /// keeping it twice keeps one copy.
    private func keep(_ bytes: [UInt8], digest: String) throws -> String {
        try FileManager.default.createDirectory(atPath: keepDirectory, withIntermediateDirectories: true)
        let path = (keepDirectory as NSString).appendingPathComponent("\(digest.prefix(16)).eml")
        if !FileManager.default.fileExists(atPath: path) {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return path
    }
}
