/// Reads a reason from a bounce's diagnostic text and codes.
///
/// The wording of the diagnostic decides first, most specific phrases first (an
/// authentication or blocklist rejection often says "user" or "mailbox" too); a specific
/// enhanced status code decides when the text says nothing known; the generic codes (`5.0.0`,
/// `5.7.1`, a bare `550`) decide nothing.
enum ReasonMatcher {
    static func reason(status: String, text: String) -> FailureReason? {
        let folded = FoldedText(text)
        if let fromStatus = specificStatus[statusKey(status)], prefersStatus.contains(statusKey(status)) {
            return fromStatus
        }
        for (reason, phrases) in phrases where phrases.contains(where: folded.contains) {
            return reason
        }
        return specificStatus[statusKey(status)]
    }

    /// `5.1.1` → `1.1`: class is permanence, not reason.
    static func statusKey(_ status: String) -> String {
        guard let dot = status.firstIndex(of: ".") else { return "" }
        return String(status[status.index(after: dot)...])
    }

    /// Codes specific enough to beat the wording (the wording of these is often generic).
    static let prefersStatus: Set<String> = ["7.26", "7.27", "1.10", "7.25", "2.2", "1.6"]

    static let specificStatus: [String: FailureReason] = [
        "1.1": .userUnknown, "1.0": .userUnknown, "1.3": .userUnknown, "1.2": .hostUnknown, "1.6": .hasMoved,
        "1.7": .rejected, "1.8": .rejected, "1.10": .notAccept,
        "2.1": .suspend, "2.2": .mailboxFull, "2.3": .messageTooBig, "2.4": .mailerError,
        "3.1": .systemFull, "3.2": .systemError, "3.3": .systemError, "3.4": .messageTooBig, "3.5": .systemError,
        "4.1": .networkError, "4.2": .networkError, "4.3": .systemError, "4.4": .networkError, "4.5": .networkError,
        "4.6": .networkError, "4.7": .expired,
        "5.0": .syntaxError, "5.1": .syntaxError, "5.2": .syntaxError, "5.3": .tooManyConnections, "5.4": .syntaxError,
        "6.0": .contentError, "6.1": .contentError, "6.2": .contentError, "6.3": .contentError, "6.5": .contentError,
        "7.2": .filtered, "7.7": .securityError, "7.8": .securityError, "7.9": .securityError,
        "7.13": .suspend, "7.23": .authFailure, "7.24": .authFailure, "7.25": .requirePTR, "7.26": .authFailure,
        "7.27": .notAccept,
    ]

    /// Lower-cased phrases, in the order they are tried.
    static let phrases: [(FailureReason, [Phrase])] = [
        // Postfix's local delivery through a command (procmail, maildrop): whatever the command
        // printed, the failure is the mailer's.
        (.mailerError, ["command output:"]),
        (.speeding, ["sent to too many recipients", "too many recipients this hour"]),
        (.authFailure, [
            "dmarc policy", "dmarc", "spf check", "spf fail", "spf validation", "sender policy framework", "unauthenticated email",
            "dkim", "not pass authentication", "failed authentication checks",
        ]),
        (.requirePTR, [
            "reverse dns", "ptr record", "no ptr", "reverse lookup", "reverse hostname", "cannot find your hostname",
            "cannot resolve your address", "rdns", "does not have a ptr",
        ]),
        (.badReputation, ["poor reputation", "low reputation", "bad reputation", "sender reputation", "reputation of"]),
        (.virusDetected, ["virus", "malware", "infected"]),
        (.notAccept, [
            "does not accept mail", "null mx", "accepts no mail", "not accepting mail", "does not receive mail", "no mx",
            "mail exchanger", "no smtp service", "mx record",
        ]),
        (.rejected, ["domain of sender address", "sender address rejected", "sender verify failed", "sender rejected"]),
        (.hasMoved, ["has moved", "no longer at this address", "user has moved"]),
        (.hostUnknown, [
            "host unknown", "unknown host", "domain not found", "no such domain", "domain does not exist", "host not found",
            "name or service not known", "unrouteable mail domain", "domain name not found", "nxdomain", "couldn't find any host",
            "unknown domain", "domain is not reachable", "invalid domain", "host or domain name not found", "illegal host/domain", "host/domain name", "domain is not valid",
            "host name lookup failure", "no such host", "domain could not be found", "recipient domain not found",
        ]),
        (.mailboxFull, [
            "mailbox full", "mailbox is full", "mailbox is over", "quota exceeded", "over quota", "exceeded storage", "mailbox size limit",
            "user is over", "exceed the quota", "exceeds the quota", "full mailbox", "exceeded its quota", "mailbox has exceeded",
            "quota exceed", "over its quota", "recipient's mailbox exceeded", "mailbox exceeded", "insufficient storage", "mail box full", "mailfolder is full", "mailbox quota",
            "would exceed", "exceeded the storage", "is overquota", "mail quota", "out of storage",
        ]),
        (.suspend, [
            "account disabled", "mailbox disabled", "account is disabled", "has been disabled", "suspended", "is inactive",
            "account has been locked", "is deactivated", "account is locked", "account expired", "not active", "inactive user",
            "mailbox is inactive", "disabled mailbox", "mailbox has been blocked", "account has been disabled", "temporary locked",
            "temporarily locked",
        ]),
        (.userUnknown, [
            "user unknown", "unknown user", "no such user", "user not found", "does not exist", "doesn't exist", "no mailbox",
            "mailbox not found", "mailbox unavailable", "invalid recipient", "recipient unknown", "unknown recipient",
            "not a valid mailbox", "no such mailbox", "no such recipient", "recipient not found", "is not a known user",
            "unrouteable address", "unknown local part", "no such address", "addressee unknown", "bad recipient",
            "mailbox does not exist", "recipient name is not recognized", "undeliverable address", "invalid mailbox",
            "address unknown", "user invalid", "unknown address", "user doesn't exist", "no account by that name",
            "not listed in", "no mailbox here by that name", "user account is unavailable",
            "invalid address", "address not present", "mailbox unknown", "nonexistent",
            "non-existent", "not exist", "no valid recipients", "unknown or illegal alias", "user does not exist",
            "no such local user", "recipient is not", "address does not exist", "could not be found", "isn't a valid",
            "account does not exist", "mailbox is unavailable", "no user", "unknown account", "user not exist",
            "mailbox name not allowed", "mailbox not available", "not our customer", "is unavailable", "user is unknown",
            "this user doesn't have", "invalid final delivery", "no such person", "unknown mailbox",
        ]),
        (.noRelaying, [
            "relay access denied", "relaying denied", "relay not permitted", "not permitted to relay", "unable to relay",
            "relaying not allowed", "relay denied", "relaying mail to", "we do not relay", "not allowed to relay",
        ]),
        (.spamDetected, [
            "spam", "junk mail", "message content rejected", "unsolicited", "bulk mail", "blocked for abuse",
            "considered as junk", "suspicious", "scam",
        ]),
        (.blocked, [
            "blacklisted", "blocklist", "blacklist", "spamhaus", "listed at", "listed in", "rbl", "dnsbl",
            "ip address has been blocked", "please use the smtp server of your isp", "dynamic ip", "client host rejected",
            "connection refused", "your ip", "ip address", "has been blocked", "blocked by", "access denied", "banned",
            "not allowed to send", "rejected due to", "refused", "block list", "denied by policy",
        ]),
        (.tooManyConnections, ["too many connections", "too many concurrent", "connection limit", "too many sessions", "too many smtp"]),
        (.speeding, ["rate limit", "too many messages", "sending rate", "rate of", "rate that", "temporarily deferred due to"]),
        (.messageTooBig, ["message too big", "message size exceeds", "message is too large", "too large", "size limit", "message too large", "exceeds size"]),
        (.exceedLimit, ["exceeded the limit", "exceeds limit", "limit exceeded"]),
        (.expired, [
            "retry time exceeded", "retry timeout exceeded", "delivery time expired", "message expired", "could not be delivered for",
            "was not delivered within", "too long in queue", "undeliverable for", "message timed out", "queue too long",
            "delivery period expired", "retry period", "has not been delivered", "has been delayed", "delivery expired",
            "timeout waiting", "delivery attempts will continue", "delayed", "unable to deliver for", "hop count exceeded",
            "given up", "giving up", "could not deliver for", "maximum time", "expired", "did not accept our requests to connect",
        ]),
        (.networkError, [
            "connection timed out", "no route to host", "network is unreachable", "dns lookup failed", "too many hops", "mail loop",
            "loops back to myself", "routing loop", "timed out while", "connection reset", "lost connection", "could not connect",
            "connection closed", "timed out", "unable to connect", "dns error", "temporary dns",
        ]),
        (.systemFull, ["disk full", "insufficient system storage", "out of disk", "system full"]),
        (.systemError, [
            "system error", "internal error", "server error", "local error", "system config error", "mail system error",
            "temporary failure", "temporary error", "service unavailable", "server configuration", "misconfigured",
            "temporary local problem", "system is not configured",
        ]),
        (.securityError, ["authentication required", "tls required", "encryption required", "must issue a starttls", "starttls"]),
        (.rejected, [
            "sender address rejected", "sender rejected", "domain of sender address", "sender verify failed", "invalid sender",
            "sender domain", "sender is not", "mail from", "envelope sender", "sender not allowed", "sender address",
            "rejected sender", "from address", "envelope blocked",
        ]),
        (.policyViolation, ["policy", "violates", "violation", "prohibited"]),
        (.filtered, ["filtered", "content filter", "delivery not authorized", "not authorized to", "message rejected"]),
        (.contentError, ["invalid header", "header error", "content rejected", "malformed"]),
        (.syntaxError, ["syntax error", "command unrecognized", "bad sequence", "command not recognized", "unrecognized command"]),
        (.mailerError, ["mailer error", "x-unix", "permission denied", "command died", "pipe to", "program exited"]),
        (.onHold, ["on hold"]),
    ]
}
