import Curation
import Foundation
import Inbound
import Mail
import PaperPostCore

/// One line of `paperpost check`: what was looked at, how it stands and what to do.
public struct PreflightItem: Sendable, Hashable {
    public enum Level: String, Sendable, Hashable, Comparable {
        case ok, warn, fail

        public static func < (lhs: Level, rhs: Level) -> Bool {
            let order: [Level] = [.ok, .warn, .fail]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    public var item: String
    public var level: Level
    public var detail: String

    public init(_ item: String, _ level: Level, _ detail: String) {
        self.item = item
        self.level = level
        self.detail = detail
    }
}

/// What a new operator gets wrong before the first real send: links to localhost, a From
/// address at example.org, unsigned mail, bounces nobody reads. The static checks cost nothing
/// and run before every SMTP send; the live ones (`--live`) talk to the relay and the model.
public enum Preflight {
    public static func check(_ settings: Settings) -> [PreflightItem] {
        var items: [PreflightItem] = []
        items.append(baseURL(settings.baseURL))
        items.append(fromDomain(settings.mail.from.address))
        items.append(
            settings.mail.postalAddress == nil
                ? PreflightItem(
                    "postal_address", .warn,
                    "no PAPERPOST_POSTAL_ADDRESS: bulk mail is expected to say who sends it and from where (CAN-SPAM asks for a postal address); it goes in every footer")
                : PreflightItem("postal_address", .ok, settings.mail.postalAddress!))
        items += dkim(settings)
        if let store = postgres(settings) { items.append(store) }
        items += relays(settings.delivery)
        items += bounces(settings)
        if settings.mail.unsubscribeMailto == nil {
            items.append(PreflightItem(
                "unsubscribe_mailto", .warn,
                "no mailto: in List-Unsubscribe (one-click https works without it); set PAPERPOST_UNSUBSCRIBE_MAILTO to an address piped into `paperpost inbound` for mail programs that only mail"))
        } else {
            items.append(PreflightItem("unsubscribe_mailto", .ok, "List-Unsubscribe also offers mailto:\(settings.mail.unsubscribeMailto!.value)"))
        }
        items.append(
            settings.llm.apiKey == nil
                ? PreflightItem("llm", .warn, "no PAPERPOST_LLM_API_KEY: digests are made by the labelled heuristic mode")
                : PreflightItem("llm", .ok, "\(settings.llm.model) at \(settings.llm.baseURL) (add --live to call it)"))
        return items
    }

    /// The checks that talk to other machines: the relay's EHLO, STARTTLS and AUTH, and one
    /// tiny model call (the run's probe: at most 16 tokens of answer; not counted in any digest's ledger).
    public static func live(_ settings: Settings) async -> [PreflightItem] {
        var items: [PreflightItem] = []
        for relay in settings.delivery.relays {
            let one = settings.delivery.only(relay)
            let pool = settings.delivery.relays.count > 1 ? "\(relay.name): " : ""
            do {
                let transport = try SMTPTransport(settings: one, heloName: URL(string: settings.baseURL)?.host)
                let reply = try await Task.detached { try transport.checkRelay() }.value
                let tls = one.tls == .off ? "without TLS" : "TLS"
                let auth = one.smtpUser == nil && URLComponents(string: relay.url)?.user == nil ? "no AUTH configured" : "AUTH accepted"
                items.append(PreflightItem("smtp_live", .ok, "\(pool)EHLO answered, \(tls), \(auth); NOOP: \(reply)"))
            } catch {
                items.append(PreflightItem("smtp_live", .fail, "\(error)"))
            }
        }
        if settings.inbound.url != nil {
            do {
                let session = try RemoteMailbox(settings: settings.inbound).open()
                let waiting = try await session.run { session throws(RemoteMailbox.MailboxError) in try session.pending() }
                items.append(PreflightItem("inbound_live", .ok, "logged in; \(waiting.count) message(s) waiting for `paperpost inbound --poll`"))
            } catch {
                items.append(PreflightItem("inbound_live", .fail, "\(error)"))
            }
        }
        if settings.llm.apiKey != nil {
            let start = ContinuousClock.now
            do {
                if let answer = try await EndpointCheck.run(settings) {
                    let seconds = (ContinuousClock.now - start).seconds
                    items.append(PreflightItem(
                        "llm_live", .ok,
                        String(format: "answered in %.1f s (%d + %d tokens)", seconds, answer.promptTokens, answer.completionTokens)))
                }
            } catch {
                items.append(PreflightItem("llm_live", .fail, "\(error)"))
            }
        }
        return items
    }

    static func baseURL(_ text: String) -> PreflightItem {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else {
            return PreflightItem("base_url", .fail, "PAPERPOST_BASE_URL '\(text)' is not a URL")
        }
        if isLocal(host) {
            return PreflightItem(
                "base_url", .fail,
                "PAPERPOST_BASE_URL is \(text): every unsubscribe and preferences link would point at this machine; set it to the public https address of `paperpost serve`")
        }
        if isReserved(host) {
            return PreflightItem("base_url", .fail, "PAPERPOST_BASE_URL is \(text), a reserved example domain; set your own")
        }
        if scheme != "https" {
            return PreflightItem(
                "base_url", .fail, "PAPERPOST_BASE_URL is \(text): links must be https (one-click unsubscribe is refused over http by mailbox providers)")
        }
        return PreflightItem("base_url", .ok, text)
    }

    static func fromDomain(_ from: EmailAddress) -> PreflightItem {
        let domain = from.domain.lowercased()
        if isReserved(domain) || isLocal(domain) {
            return PreflightItem(
                "from_domain", .fail, "PAPERPOST_MAIL_FROM is \(from.value), a reserved example domain: set an address at a domain you own")
        }
        return PreflightItem("from_domain", .ok, from.value)
    }

    static func dkim(_ settings: Settings) -> [PreflightItem] {
        guard let dkim = settings.mail.dkim else {
            return [PreflightItem(
                "dkim", .fail,
                "mail is not DKIM-signed (Gmail, Yahoo and Microsoft require it of bulk senders): run `paperpost dkim keygen --selector S`, publish the record, set PAPERPOST_DKIM_KEY_FILE and PAPERPOST_DKIM_SELECTOR")]
        }
        let signer: DKIMSigner
        do {
            signer = try DKIMSigner(settings: dkim, from: settings.mail.from.address)
        } catch {
            return [PreflightItem("dkim", .fail, error.description)]
        }
        var items: [PreflightItem] = []
        if dkim.keyFile == nil {
            items.append(PreflightItem("dkim", .warn, "only an Ed25519 key: receivers that do not check RFC 8463 see unsigned mail; add an RSA key"))
        } else {
            items.append(PreflightItem("dkim", .ok, "rsa-sha256" + (dkim.ed25519KeyFile == nil ? "" : " and ed25519-sha256") + ", selector \(signer.selector)"))
        }
        let from = settings.mail.from.address.domain.lowercased()
        let domain = signer.domain.lowercased()
        if from == domain || from.hasSuffix("." + domain) || domain.hasSuffix("." + from) {
            items.append(PreflightItem("dkim_alignment", .ok, "d=\(domain) aligns with the From domain \(from) (relaxed DMARC alignment)"))
        } else {
            items.append(PreflightItem(
                "dkim_alignment", .fail, "d=\(domain) does not align with the From domain \(from): DMARC fails; set PAPERPOST_DKIM_DOMAIN to \(from)"))
        }
        for (name, record) in signer.dnsRecords {
            items.append(PreflightItem("dkim_record", .ok, "publish: \(name). IN TXT \(DKIMKeyGenerator.zoneStrings(record))"))
        }
        return items
    }

    /// One item per relay of the pool (one for the outbox when there is none).
    static func relays(_ delivery: DeliverySettings) -> [PreflightItem] {
        guard !delivery.relays.isEmpty else {
            return [PreflightItem("smtp", .warn, "no PAPERPOST_SMTP_URL: sends write to the outbox (\(delivery.outboxDirectory)) instead of mailing")]
        }
        return delivery.relays.map { relay in
            let host = URL(string: relay.url)?.host?.lowercased() ?? ""
            let hasUser = delivery.smtpUser != nil || URLComponents(string: relay.url)?.user != nil
            if delivery.tls == .off, !isLocal(host), !relay.url.lowercased().hasPrefix("smtps://") {
                return PreflightItem("smtp", .fail, "PAPERPOST_SMTP_TLS=off to \(host): passwords and mail would cross the network in clear; use required")
            }
            if !hasUser, !isLocal(host) {
                return PreflightItem("smtp", .warn, "\(relay.name) without PAPERPOST_SMTP_USER: the relay must accept this host without AUTH (add --live to try)")
            }
            return PreflightItem("smtp", .ok, "\(relay.name), TLS \(delivery.tls.rawValue) (add --live to try EHLO, STARTTLS and AUTH)")
        }
    }

    /// A PostgreSQL store on another host is reached over the network with the list and the
    /// password: in clear with `sslmode=disable`, and with `prefer` (the default) in clear too
    /// when the server offers no TLS, and with any certificate when it does.
    static func postgres(_ settings: Settings) -> PreflightItem? {
        guard settings.storesInPostgreSQL, let url = URLComponents(string: settings.databasePath) else { return nil }
        let host = url.host?.lowercased() ?? "localhost"
        let place = "PostgreSQL at \(host)\(url.path)"
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        if isLocal(host) {
            return PreflightItem("database", .ok, "\(place), on this host")
        }
        switch mode {
        case "disable":
            return PreflightItem(
                "database", .fail, "\(place) with sslmode=disable: the password and every subscriber's address would cross the network in clear; use sslmode=require")
        case "require":
            return PreflightItem("database", .ok, "\(place), TLS required and its certificate checked")
        default:
            return PreflightItem(
                "database", .warn,
                "\(place) with sslmode=\(mode): falls back to clear text when the server offers no TLS and accepts any certificate; use sslmode=require")
        }
    }

    static func bounces(_ settings: Settings) -> [PreflightItem] {
        guard let bounce = settings.delivery.bounceAddress else {
            return [PreflightItem(
                "bounce_address", .fail,
                "no PAPERPOST_BOUNCE_ADDRESS: bounces go to the From address and nobody reads them; set it and pipe its mail into `paperpost inbound`")]
        }
        if isReserved(bounce.domain.lowercased()) {
            return [PreflightItem("bounce_address", .fail, "PAPERPOST_BOUNCE_ADDRESS is \(bounce.value), a reserved example domain")]
        }
        return [
            PreflightItem("bounce_address", .ok, "\(bounce.value); each digest's return path is \(bounce.localPart)+TOKEN@\(bounce.domain)"),
            settings.inbound.url.map { PreflightItem("inbound", .ok, "read from \($0) by `paperpost inbound --poll` (run it from cron)") }
                ?? PreflightItem(
                    "inbound", .warn,
                    "make sure mail to \(bounce.localPart)+*@\(bounce.domain) reaches `paperpost inbound` (a Postfix pipe transport, .forward, --maildir from cron, or set PAPERPOST_INBOUND_URL for --poll); this check cannot see it"),
        ]
    }

    static func isLocal(_ host: String) -> Bool {
        host == "localhost" || host.hasSuffix(".localhost") || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
            || host == "0.0.0.0" || host.hasSuffix(".local")
    }

    /// RFC 2606 and RFC 6761 names: never anyone's real domain.
    static func isReserved(_ domain: String) -> Bool {
        let reserved = ["example.com", "example.org", "example.net"]
        if reserved.contains(where: { domain == $0 || domain.hasSuffix("." + $0) }) { return true }
        return ["example", "test", "invalid", "localhost"].contains { domain == $0 || domain.hasSuffix("." + $0) }
    }
}
