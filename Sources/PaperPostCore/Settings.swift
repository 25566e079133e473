import Configuration
import Foundation

/// Everything PaperPost is configured with, as one value.
///
/// Libraries receive a `Settings` and never read the environment themselves, so that a test
/// builds exactly the configuration it wants. The command line loads it with
/// ``load(environment:configFile:)`` and then applies its flags, which win.
public struct Settings: Sendable {
    /// The SQLite database file, or the `postgres://` URL of a PostgreSQL store (`PAPERPOST_DB`).
    public var databasePath: String
    /// Categories every fetch includes and a new subscriber gets when choosing none
    /// (`PAPERPOST_DEFAULT_CATEGORIES`).
    public var defaultCategories: [String]
    /// The language of a new subscriber who names none (`PAPERPOST_DEFAULT_LANGUAGE`).
    public var defaultLanguage: Language
    /// Compare the part before `@` case-sensitively (`PAPERPOST_CASE_SENSITIVE_LOCAL_PART`).
    /// Off by default, as almost every mailbox provider ignores case there.
    public var caseSensitiveLocalPart: Bool
    /// Where the web pages and the links in every email live (`PAPERPOST_BASE_URL`); also
    /// named in the User-Agent so that arXiv knows whom to contact.
    public var baseURL: String
    /// arXiv's announcement feed, without the category path (`PAPERPOST_ARXIV_RSS_URL`).
    public var arxivRSSURL: String
    /// arXiv's export API query endpoint (`PAPERPOST_ARXIV_API_URL`).
    public var arxivAPIURL: String
    /// Include papers cross-listed into the categories (`PAPERPOST_ARXIV_CROSS_LISTS`).
    public var arxivCrossLists: Bool
    /// The pause between two requests to arXiv, at least 3 seconds by arXiv's terms
    /// (`PAPERPOST_ARXIV_DELAY`, seconds; tests against a local server lower it).
    public var arxivDelay: Duration
    /// The largest HTTP response body accepted from arXiv or the language model, counted after
    /// decompression, so an endless or decompression-bomb answer cannot exhaust memory
    /// (`PAPERPOST_HTTP_MAX_BYTES`, bytes; 64 MiB by default, more than ten times a 2,000-entry API page).
    public var httpMaxBytes: Int
    /// The language model used for curation; without an API key curation is heuristic.
    public var llm: LLMSettings
    /// A directory whose templates replace the built-in ones, file by file (`PAPERPOST_TEMPLATES`).
    public var templatesDirectory: String?
    /// The templates in force: the overrides, else the copies compiled into the binary.
    public var templates: TemplateFiles { TemplateFiles(directory: templatesDirectory) }
    /// How mail is addressed and signed.
    public var mail: MailSettings
    /// How mail leaves: SMTP, or files in an outbox.
    public var delivery: DeliverySettings
    /// How the web app treats sign-ups.
    public var web: WebSettings
    /// Where mail coming back is read from, and where what cannot be classified is kept.
    public var inbound = InboundSettings()

    public init(
        databasePath: String = "var/paperpost.sqlite",
        defaultCategories: [String] = ArxivCategory.defaultCodes,
        defaultLanguage: Language = .zh,
        caseSensitiveLocalPart: Bool = false,
        baseURL: String = "http://localhost:8080",
        arxivRSSURL: String = "https://rss.arxiv.org/atom",
        arxivAPIURL: String = "https://export.arxiv.org/api/query",
        arxivCrossLists: Bool = true,
        arxivDelay: Duration = .seconds(3),
        httpMaxBytes: Int = 64 * 1_048_576,
        llm: LLMSettings = LLMSettings(),
        templatesDirectory: String? = nil,
        mail: MailSettings = MailSettings(),
        delivery: DeliverySettings = DeliverySettings(),
        web: WebSettings = WebSettings()
    ) {
        self.databasePath = databasePath
        self.defaultCategories = defaultCategories
        self.defaultLanguage = defaultLanguage
        self.caseSensitiveLocalPart = caseSensitiveLocalPart
        self.baseURL = baseURL
        self.arxivRSSURL = arxivRSSURL
        self.arxivAPIURL = arxivAPIURL
        self.arxivCrossLists = arxivCrossLists
        self.arxivDelay = arxivDelay
        self.httpMaxBytes = httpMaxBytes
        self.llm = llm
        self.templatesDirectory = templatesDirectory
        self.mail = mail
        self.delivery = delivery
        self.web = web
    }
}

/// Sign-up rules of the web app: how long a confirmation link lives and how often a form may
/// send mail, so that the subscribe form cannot be turned into a spam cannon.
public struct WebSettings: Sendable {
    /// How long a confirmation link works (`PAPERPOST_CONFIRM_DAYS`, days).
    public var confirmationLifetime: Duration
    /// Sign-ups one client address may make per ``clientWindow``
    /// (`PAPERPOST_SUBSCRIBE_LIMIT_CLIENT`, per hour).
    public var subscribeLimitPerClient: Int
    public var clientWindow: Duration
    /// Confirmation mails one address may be sent per ``addressWindow``
    /// (`PAPERPOST_SUBSCRIBE_LIMIT_ADDRESS`, per day).
    public var subscribeLimitPerAddress: Int
    public var addressWindow: Duration
    /// Take the client address from the last `X-Forwarded-For` entry (`PAPERPOST_TRUST_PROXY`):
    /// only behind a reverse proxy that sets it, or every client could claim any address.
    public var trustForwardedFor: Bool
    /// How long after unsubscribing the done page's "Undo" still works (10 minutes).
    public var undoWindow: Duration = .seconds(600)
    /// The bearer token `GET /metrics` asks for (`PAPERPOST_METRICS_TOKEN`). Without one the
    /// metrics are served only to a client on loopback that did not come through a proxy.
    public var metricsToken: String?
    /// The shortest metrics token accepted: a scraper's token is a password.
    public static let minimumMetricsTokenBytes = 16

    public init(
        confirmationLifetime: Duration = .seconds(7 * 86_400), subscribeLimitPerClient: Int = 10,
        clientWindow: Duration = .seconds(3_600), subscribeLimitPerAddress: Int = 3, addressWindow: Duration = .seconds(86_400),
        trustForwardedFor: Bool = false
    ) {
        self.confirmationLifetime = confirmationLifetime
        self.subscribeLimitPerClient = subscribeLimitPerClient
        self.clientWindow = clientWindow
        self.subscribeLimitPerAddress = subscribeLimitPerAddress
        self.addressWindow = addressWindow
        self.trustForwardedFor = trustForwardedFor
    }
}

/// How and how fast mail is delivered, and what a failure costs.
public struct DeliverySettings: Sendable {
    public enum TLS: String, Sendable, CaseIterable {
        /// STARTTLS must succeed, or nothing is sent (the default).
        case required
        /// STARTTLS when the server offers it, plain text otherwise.
        case opportunistic
        /// Never encrypt: only for a relay on the same host or network.
        case off
    }

    /// The relays mail goes through (`PAPERPOST_SMTP_URL`, one or several, or the file
    /// `PAPERPOST_SMTP_RELAYS`); none: the outbox.
    public var relays: [Relay]
    /// `smtp://host:587` or `smtps://host:465`: the first relay; `nil` uses the outbox.
    public var smtpURL: String? {
        get { relays.first?.url }
        set { relays = newValue.map { [Relay(url: $0)] } ?? [] }
    }
    /// These settings for one relay of the pool alone. A relay with its own user in its URL
    /// logs in as that user, not as `PAPERPOST_SMTP_USER`.
    public func only(_ relay: Relay) -> DeliverySettings {
        var one = self
        one.relays = [relay]
        if URLComponents(string: relay.url)?.user != nil {
            one.smtpUser = nil
            one.smtpPassword = nil
        }
        return one
    }

    /// Whether sending needs a pool: several relays, or one with settings of its own.
    public var isRelayPool: Bool {
        relays.count > 1 || relays.contains { $0.connections != nil || $0.rate != nil || $0.weight != nil }
    }
    public var smtpUser: String?
    public var smtpPassword: String?
    /// `PAPERPOST_SMTP_TLS`; `smtps://` is always encrypted.
    public var tls: TLS
    /// A PEM file of certificates to trust besides the system's (`PAPERPOST_SMTP_CA_FILE`),
    /// for a relay with a private CA.
    public var caFile: String?
    /// Where bounces go (`PAPERPOST_BOUNCE_ADDRESS`); default: the From address. When set, each
    /// message's envelope sender is a ``ReturnPath`` on it (`local+TOKEN@domain`).
    public var bounceAddress: EmailAddress?
    public var connectTimeout: Duration
    /// One message's time limit, from MAIL FROM to the reply after DATA (`PAPERPOST_SMTP_TIMEOUT`).
    public var messageTimeout: Duration
    /// SMTP connections in parallel (`PAPERPOST_SMTP_CONNECTIONS`, `--connections`).
    public var connections: Int
    /// At most this many messages per second overall (`PAPERPOST_SEND_RATE`, `--rate`).
    public var rate: Double?
    /// Where the outbox transport writes (`PAPERPOST_OUTBOX`).
    public var outboxDirectory: String
    /// The first wait after a temporary failure; later ones double (`PAPERPOST_RETRY_BASE`, seconds).
    public var retryBase: Duration
    /// Attempts before a temporary failure becomes permanent (`PAPERPOST_MAX_ATTEMPTS`).
    public var maxAttempts: Int
    /// The bounce score at which a subscriber becomes bounced (`PAPERPOST_BOUNCE_THRESHOLD`):
    /// a hard bounce adds 1, a soft one 0.5 (see ``BouncePolicy``).
    public var bounceThreshold: Int
    /// Days without a bounce after which the score starts again from zero (`PAPERPOST_BOUNCE_RESET_DAYS`).
    public var bounceResetDays: Int
    public var bouncePolicy: BouncePolicy { BouncePolicy(threshold: Double(bounceThreshold), resetDays: bounceResetDays) }
    /// How long a send's lease on a digest lasts without renewal (`PAPERPOST_SEND_LEASE`,
    /// seconds). A sender renews it as it writes; one paused or hung for longer loses it to
    /// the next send, and is fenced off from the log when it resumes.
    public var leaseDuration: Duration
    /// Consecutive connection failures or timeouts after which a send stops and defers what
    /// is left (`PAPERPOST_SMTP_BREAKER`), so a dead relay costs minutes, not hours.
    public var breakerThreshold: Int

    public init(
        smtpURL: String? = nil, smtpUser: String? = nil, smtpPassword: String? = nil, tls: TLS = .required,
        caFile: String? = nil, bounceAddress: EmailAddress? = nil, connectTimeout: Duration = .seconds(10),
        messageTimeout: Duration = .seconds(60), connections: Int = 4, rate: Double? = nil,
        outboxDirectory: String = "var/outbox", retryBase: Duration = .seconds(300), maxAttempts: Int = 5,
        bounceThreshold: Int = 3, bounceResetDays: Int = 30, leaseDuration: Duration = .seconds(300), breakerThreshold: Int = 5
    ) {
        self.relays = smtpURL.map { [Relay(url: $0)] } ?? []
        self.smtpUser = smtpUser
        self.smtpPassword = smtpPassword
        self.tls = tls
        self.caFile = caFile
        self.bounceAddress = bounceAddress
        self.connectTimeout = connectTimeout
        self.messageTimeout = messageTimeout
        self.connections = connections
        self.rate = rate
        self.outboxDirectory = outboxDirectory
        self.retryBase = retryBase
        self.maxAttempts = maxAttempts
        self.bounceThreshold = bounceThreshold
        self.bounceResetDays = bounceResetDays
        self.leaseDuration = leaseDuration
        self.breakerThreshold = breakerThreshold
    }
}

/// Mail coming back to the bounce and unsubscribe addresses.
public struct InboundSettings: Sendable {
    /// An IMAP or POP3 mailbox `paperpost inbound --poll` reads (`PAPERPOST_INBOUND_URL`,
    /// `imaps://mail.example.org/INBOX`, `pop3s://mail.example.org`); messages are deleted (or,
    /// when unclassified, flagged over IMAP) only after they are recorded.
    public var url: String?
    /// `PAPERPOST_INBOUND_USER`, `PAPERPOST_INBOUND_PASSWORD`.
    public var user: String?
    public var password: String?
    /// `PAPERPOST_INBOUND_TLS` (`imaps://` and `pop3s://` are always encrypted); the default
    /// requires STARTTLS (STLS over POP3).
    public var tls: DeliverySettings.TLS = .required
    /// Certificates to trust besides the system's (`PAPERPOST_INBOUND_CA_FILE`).
    public var caFile: String?
    /// Where unclassified messages are kept for a person (`PAPERPOST_INBOUND_KEEP`).
    public var keepDirectory = "var/inbound/kept"

    public init() {}
}

/// Who mail comes from and what every message carries.
public struct MailSettings: Sendable {
    /// The From header (`PAPERPOST_MAIL_FROM`); its domain also names Message-IDs.
    public var from: Mailbox
    /// `mailto:` address for the List-Unsubscribe header (`PAPERPOST_UNSUBSCRIBE_MAILTO`), if any.
    public var unsubscribeMailto: EmailAddress?
    /// Who sends the newsletter and where, shown in every email's footer
    /// (`PAPERPOST_POSTAL_ADDRESS`): readers and mailbox providers expect it of bulk mail.
    public var postalAddress: String?
    /// Where replies go (`PAPERPOST_REPLY_TO`), when not to the From address.
    public var replyTo: EmailAddress?
    /// The List-Id (`PAPERPOST_LIST_ID`); by default derived from the base URL's host.
    public var listID: String?
    /// Signs the links in every email (`PAPERPOST_SECRET`); when unset, a secret is generated once
    /// into the database's directory.
    public var secret: String?
    /// Secrets links were signed with before the current one (`PAPERPOST_SECRET_PREVIOUS`,
    /// separated by commas): still accepted when checking a link or a return path, never used to
    /// sign, so changing the secret does not break every unsubscribe link already mailed.
    public var previousSecrets: [String] = []
    /// The shortest `PAPERPOST_SECRET` accepted: 256 bits, as much as HMAC-SHA256 can use.
    public static let minimumSecretBytes = 32
    /// DKIM signing; `nil` when no key is configured (a relay may sign instead).
    public var dkim: DKIMSettings?

    public init(
        from: Mailbox = Mailbox(displayName: "PaperPost", address: try! EmailAddress("digest@example.org")),
        unsubscribeMailto: EmailAddress? = nil, listID: String? = nil, secret: String? = nil, dkim: DKIMSettings? = nil
    ) {
        self.from = from
        self.unsubscribeMailto = unsubscribeMailto
        self.listID = listID
        self.secret = secret
        self.dkim = dkim
    }
}

/// Where the DKIM keys are and what the signatures name. Mailbox providers require bulk mail
/// signed by the From domain; signing here, rather than at a relay, covers the headers RFC 8058
/// one-click needs (`List-Unsubscribe-Post`), which relays' default header lists leave out.
public struct DKIMSettings: Sendable, Hashable {
    /// The RSA private key, PEM (`PAPERPOST_DKIM_KEY_FILE`).
    public var keyFile: String?
    /// An Ed25519 private key, its 32-byte seed in base64 as dkimpy writes it
    /// (`PAPERPOST_DKIM_ED25519_KEY_FILE`): a second signature for receivers that check RFC 8463,
    /// under the selector `<selector>-ed25519`.
    public var ed25519KeyFile: String?
    /// `s=` (`PAPERPOST_DKIM_SELECTOR`): the DNS name is `selector._domainkey.domain`.
    public var selector: String
    /// `d=` (`PAPERPOST_DKIM_DOMAIN`); by default the From address's domain, which DMARC aligns on.
    public var domain: String?

    public init(keyFile: String? = nil, ed25519KeyFile: String? = nil, selector: String, domain: String? = nil) {
        self.keyFile = keyFile
        self.ed25519KeyFile = ed25519KeyFile
        self.selector = selector
        self.domain = domain
    }
}

/// What the daily job does when the model fails (a refused key, an empty account, an endpoint
/// that stays down): nobody is watching, so the operator chooses in advance.
public enum LLMFallback: String, Sendable, CaseIterable {
    /// No digest is made and nothing is sent; the next run tries again.
    case none
    /// A heuristic digest, labelled as such, is made and sent; the run exits 3 (partial).
    case heuristic
}

/// An OpenAI-compatible chat-completions endpoint and what it costs.
public struct LLMSettings: Sendable {
    /// `PAPERPOST_LLM_BASE_URL`, up to and including `/v1`.
    public var baseURL: String
    /// `PAPERPOST_LLM_API_KEY`. Never logged, never stored.
    public var apiKey: String?
    /// `PAPERPOST_LLM_MODEL`.
    public var model: String
    /// Prices per million input and output tokens (`PAPERPOST_LLM_PRICE_INPUT`, `…_OUTPUT`);
    /// `nil` when not configured, and the digest then shows tokens without a cost.
    public var pricePerMillionInput: Double?
    public var pricePerMillionOutput: Double?
    /// ISO 4217 code of the prices (`PAPERPOST_LLM_CURRENCY`).
    public var currency: String
    /// The most a digest day may cost, summed over every run for that day
    /// (`PAPERPOST_LLM_MAX_COST`). A call whose worst case does not fit is not made.
    public var maxCost: Double?
    /// Requests in flight at once (`PAPERPOST_LLM_CONCURRENCY`).
    public var concurrency: Int
    /// One request's time limit (`PAPERPOST_LLM_TIMEOUT`, seconds).
    public var timeout: Duration
    /// Ask for a JSON object with `response_format` (`PAPERPOST_LLM_JSON_MODE`); turn off for
    /// endpoints that reject the field.
    public var jsonMode: Bool
    /// The first wait before retrying a failed request; later waits double
    /// (`PAPERPOST_LLM_RETRY_DELAY`, seconds).
    public var retryDelay: Duration
    /// The whole run's time with the model (`PAPERPOST_LLM_DEADLINE`, seconds): past it, no call
    /// is started and curation counts as failed, so a stalled endpoint cannot hold the day.
    public var deadline: Duration
    /// What to do when curation fails (`PAPERPOST_LLM_FALLBACK`).
    public var fallback: LLMFallback
    /// The limit of the few-token probe each run sends beside its first calls: a working
    /// endpoint answers it in seconds, so a dead one is known long before a real call's
    /// `timeout`. Not a setting: tests shorten it.
    public var probeTimeout: Duration = .seconds(20)

    public init(
        baseURL: String = "https://api.deepseek.com/v1", apiKey: String? = nil, model: String = "deepseek-chat",
        pricePerMillionInput: Double? = nil, pricePerMillionOutput: Double? = nil, currency: String = "CNY",
        maxCost: Double? = nil, concurrency: Int = 4, timeout: Duration = .seconds(120), jsonMode: Bool = true,
        retryDelay: Duration = .seconds(2), deadline: Duration = .seconds(300), fallback: LLMFallback = .none
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.model = model
        self.pricePerMillionInput = pricePerMillionInput
        self.pricePerMillionOutput = pricePerMillionOutput
        self.currency = currency
        self.maxCost = maxCost
        self.concurrency = concurrency
        self.timeout = timeout
        self.jsonMode = jsonMode
        self.retryDelay = retryDelay
        self.deadline = deadline
        self.fallback = fallback
    }

    /// What a call costs, or `nil` when prices are not configured.
    public func cost(promptTokens: Int, completionTokens: Int) -> Double? {
        guard let input = pricePerMillionInput, let output = pricePerMillionOutput else { return nil }
        return (Double(promptTokens) * input + Double(completionTokens) * output) / 1_000_000
    }
}

/// A configuration value that cannot be used; names the variable so the operator can fix it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension Settings {
    /// Reads `PAPERPOST_*` variables from the environment, then from `configFile` (a file of
    /// `PAPERPOST_…=value` lines, the format systemd's `EnvironmentFile=` reads; see
    /// ``ConfigurationFile``). The environment wins over the file; an empty variable counts as
    /// unset, except `PAPERPOST_SECRET`, where it is refused.
    ///
    /// Every value is checked as it is read: no control characters (a line break in a value
    /// could reach a mail header), numbers within their ``SettingLimit``, and a secret long
    /// enough to sign links. The keys read here are the known keys, so there is no second list
    /// to keep in step: a file key that is not read is refused with its line (a misspelt setting
    /// must not silently keep its default), and an unknown `PAPERPOST_*` variable in the
    /// environment only gets a warning, since other tools may set such variables.
    ///
    /// - Parameter warn: receives each warning, one line without a trailing newline.
    /// - Throws: ``ConfigurationError`` naming the variable, or the file and line, that is wrong.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configFile: String? = nil,
        warn: (String) -> Void = { _ in }
    ) async throws -> Settings {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment)
        ]
        let file = try configFile.map(ConfigurationFile.read)
        if let file {
            providers.append(EnvironmentVariablesProvider(environmentVariables: file.values))
        }
        let config = ConfigReader(providers: providers)
        // Every key asked for: the known keys.
        var known: Set<String> = []
        // The value as set, empty included, refused if it holds a control character.
        func text(_ name: String, isSecret: Bool = false) throws -> String? {
            known.insert("PAPERPOST_\(name)")
            guard let text = config.string(forKey: ConfigKey(["paperpost"] + name.split(separator: "_").map { $0.lowercased() }), isSecret: isSecret)
            else { return nil }
            if let control = text.unicodeScalars.first(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
                throw ConfigurationError(
                    "PAPERPOST_\(name): the value contains a line break or control character (\(String(format: "U+%04X", control.value))); "
                        + "no setting may contain one")
            }
            return text
        }
        func value(_ name: String, isSecret: Bool = false) throws -> String? {
            try text(name, isSecret: isSecret).flatMap { $0.isEmpty ? nil : $0 }
        }
        func invalid(_ name: String, _ error: some Error) -> ConfigurationError {
            ConfigurationError("PAPERPOST_\(name): \(error)")
        }

        var settings = Settings()
        if let path = try value("DB") {
            settings.databasePath = try Settings.checkDatabasePath(path, name: "PAPERPOST_DB")
        }
        if let list = try value("DEFAULT_CATEGORIES") {
            do { settings.defaultCategories = try ArxivCategory.parseList(list) } catch { throw invalid("DEFAULT_CATEGORIES", error) }
        }
        if let language = try value("DEFAULT_LANGUAGE") {
            do { settings.defaultLanguage = try Language(parsing: language) } catch { throw invalid("DEFAULT_LANGUAGE", error) }
        }
        func flag(_ name: String) throws -> Bool? {
            guard let text = try value(name) else { return nil }
            guard let on = Bool(parsingFlag: text) else {
                throw ConfigurationError("PAPERPOST_\(name): '\(text)' is not true or false")
            }
            return on
        }
        func url(_ name: String) throws -> String? {
            guard let text = try value(name) else { return nil }
            // Only the characters a URL may hold, so that nothing typed here can end the `<…>`
            // of a List-Unsubscribe header or be re-encoded behind the operator's back.
            let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%".unicodeScalars)
            guard text.unicodeScalars.allSatisfy(allowed.contains), let url = URL(string: text),
                ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil
            else {
                throw ConfigurationError("PAPERPOST_\(name): '\(text)' is not an http or https URL (ASCII, spaces and <>\"{}|\\^` percent-encoded)")
            }
            return text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        func tls(_ name: String) throws -> DeliverySettings.TLS? {
            guard let text = try value(name) else { return nil }
            guard let mode = DeliverySettings.TLS(rawValue: text.lowercased()) else {
                throw ConfigurationError("PAPERPOST_\(name): '\(text)' is not one of required, opportunistic, off")
            }
            return mode
        }
        func number(_ name: String, _ limit: SettingLimit) throws -> Double? {
            try value(name).map { try limit.parse($0, name: "PAPERPOST_\(name)") }
        }
        func integer(_ name: String, _ limit: SettingLimit) throws -> Int? {
            try value(name).map { try limit.parseInteger($0, name: "PAPERPOST_\(name)") }
        }
        func seconds(_ name: String, _ limit: SettingLimit) throws -> Duration? {
            try number(name, limit).map { .seconds($0) }
        }
        settings.caseSensitiveLocalPart = try flag("CASE_SENSITIVE_LOCAL_PART") ?? settings.caseSensitiveLocalPart
        settings.baseURL = try url("BASE_URL") ?? settings.baseURL
        settings.arxivRSSURL = try url("ARXIV_RSS_URL") ?? settings.arxivRSSURL
        settings.arxivAPIURL = try url("ARXIV_API_URL") ?? settings.arxivAPIURL
        settings.arxivCrossLists = try flag("ARXIV_CROSS_LISTS") ?? settings.arxivCrossLists
        settings.arxivDelay = try seconds("ARXIV_DELAY", .arxivDelay) ?? settings.arxivDelay
        settings.httpMaxBytes = try integer("HTTP_MAX_BYTES", .httpMaxBytes) ?? settings.httpMaxBytes
        settings.llm.baseURL = try url("LLM_BASE_URL") ?? settings.llm.baseURL
        settings.llm.apiKey = try value("LLM_API_KEY", isSecret: true)
        settings.llm.model = try value("LLM_MODEL") ?? settings.llm.model
        settings.llm.pricePerMillionInput = try number("LLM_PRICE_INPUT", .llmPrice)
        settings.llm.pricePerMillionOutput = try number("LLM_PRICE_OUTPUT", .llmPrice)
        if (settings.llm.pricePerMillionInput == nil) != (settings.llm.pricePerMillionOutput == nil) {
            throw ConfigurationError("PAPERPOST_LLM_PRICE_INPUT and PAPERPOST_LLM_PRICE_OUTPUT go together: set both or neither")
        }
        if let currency = try value("LLM_CURRENCY") {
            guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw ConfigurationError("PAPERPOST_LLM_CURRENCY: '\(currency)' is not a three-letter currency code such as CNY or USD")
            }
            settings.llm.currency = currency.uppercased()
        }
        settings.llm.maxCost = try number("LLM_MAX_COST", .llmMaxCost)
        settings.llm.concurrency = try integer("LLM_CONCURRENCY", .llmConcurrency) ?? settings.llm.concurrency
        settings.llm.timeout = try seconds("LLM_TIMEOUT", .llmTimeout) ?? settings.llm.timeout
        settings.llm.jsonMode = try flag("LLM_JSON_MODE") ?? settings.llm.jsonMode
        settings.llm.retryDelay = try seconds("LLM_RETRY_DELAY", .llmRetryDelay) ?? settings.llm.retryDelay
        settings.llm.deadline = try seconds("LLM_DEADLINE", .llmDeadline) ?? settings.llm.deadline
        if let fallback = try value("LLM_FALLBACK") {
            guard let chosen = LLMFallback(rawValue: fallback.lowercased()) else {
                throw ConfigurationError("PAPERPOST_LLM_FALLBACK: '\(fallback)' is not heuristic or none")
            }
            settings.llm.fallback = chosen
        }
        if let directory = try value("TEMPLATES") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConfigurationError(
                    "PAPERPOST_TEMPLATES: '\(directory)' is not a directory (unset it to use the built-in templates, or point it at a copy of templates/)")
            }
            settings.templatesDirectory = directory
        }
        if let from = try value("MAIL_FROM") {
            do { settings.mail.from = try Mailbox(parsing: from) } catch { throw invalid("MAIL_FROM", error) }
        }
        settings.mail.postalAddress = try value("POSTAL_ADDRESS")
        if let replyTo = try value("REPLY_TO") {
            do { settings.mail.replyTo = try EmailAddress(replyTo) } catch { throw invalid("REPLY_TO", error) }
        }
        if let mailto = try value("UNSUBSCRIBE_MAILTO") {
            do { settings.mail.unsubscribeMailto = try EmailAddress(mailto) } catch { throw invalid("UNSUBSCRIBE_MAILTO", error) }
        }
        if let listID = try value("LIST_ID") {
            guard listID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.".contains($0)) }), listID.contains(".") else {
                throw ConfigurationError("PAPERPOST_LIST_ID: '\(listID)' is not a dotted name such as arxiv-digest.example.org")
            }
            settings.mail.listID = listID
        }
        let dkimKey = try value("DKIM_KEY_FILE")
        let dkimEd25519Key = try value("DKIM_ED25519_KEY_FILE")
        let dkimSelector = try value("DKIM_SELECTOR")
        let dkimDomain = try value("DKIM_DOMAIN")
        func dnsName(_ text: String, _ name: String, example: String) throws -> String {
            let labels = text.split(separator: ".", omittingEmptySubsequences: false)
            guard !labels.isEmpty, labels.allSatisfy({ label in
                (1...63).contains(label.count) && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            }) else {
                throw ConfigurationError("PAPERPOST_\(name): '\(text)' is not a DNS name such as \(example)")
            }
            return text.lowercased()
        }
        if dkimKey != nil || dkimEd25519Key != nil {
            guard let dkimSelector else {
                throw ConfigurationError(
                    "PAPERPOST_DKIM_SELECTOR is needed with PAPERPOST_DKIM_KEY_FILE: it names the DNS record (selector._domainkey.domain) "
                        + "that holds the public key, for example 2026a")
            }
            settings.mail.dkim = DKIMSettings(
                keyFile: dkimKey, ed25519KeyFile: dkimEd25519Key, selector: try dnsName(dkimSelector, "DKIM_SELECTOR", example: "2026a"),
                domain: try dkimDomain.map { try dnsName($0, "DKIM_DOMAIN", example: "example.org") })
        } else if dkimSelector != nil || dkimDomain != nil {
            throw ConfigurationError(
                "PAPERPOST_DKIM_SELECTOR and PAPERPOST_DKIM_DOMAIN are set but no key: set PAPERPOST_DKIM_KEY_FILE "
                    + "(`paperpost dkim keygen` writes one), or unset them")
        }
        if let secret = try text("SECRET", isSecret: true) {
            // Never echoed: only its length is named.
            guard secret.utf8.count >= MailSettings.minimumSecretBytes else {
                throw ConfigurationError(
                    "PAPERPOST_SECRET: \(secret.isEmpty ? "is set but empty" : "is only \(secret.utf8.count) byte\(secret.utf8.count == 1 ? "" : "s") long"); it needs at least "
                        + "\(MailSettings.minimumSecretBytes) (for example `openssl rand -hex 32`), or leave it unset to use a generated one")
            }
            settings.mail.secret = secret
        }
        if let previous = try value("SECRET_PREVIOUS", isSecret: true) {
            let secrets = previous.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for (index, secret) in secrets.enumerated() where secret.utf8.count < MailSettings.minimumSecretBytes {
                throw ConfigurationError(
                    "PAPERPOST_SECRET_PREVIOUS: secret \(index + 1) of \(secrets.count) is only \(secret.utf8.count) bytes long; "
                        + "each needs at least \(MailSettings.minimumSecretBytes), as PAPERPOST_SECRET did")
            }
            settings.mail.previousSecrets = secrets
        }

        let relayURLs = try value("SMTP_URL")
        let relayFile = try value("SMTP_RELAYS")
        switch (relayURLs, relayFile) {
        case (.some, .some):
            throw ConfigurationError("PAPERPOST_SMTP_URL and PAPERPOST_SMTP_RELAYS both list relays: set one of them")
        case (let urls?, nil):
            settings.delivery.relays = try Relay.parseList(urls, origin: "PAPERPOST_SMTP_URL", isFile: false)
        case (nil, let path?):
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigurationError("PAPERPOST_SMTP_RELAYS: cannot read '\(path)': \((error as NSError).localizedDescription)")
            }
            settings.delivery.relays = try Relay.parseList(text, origin: path, isFile: true)
        case (nil, nil):
            break
        }
        settings.delivery.smtpUser = try value("SMTP_USER")
        settings.delivery.smtpPassword = try value("SMTP_PASSWORD", isSecret: true)
        settings.delivery.tls = try tls("SMTP_TLS") ?? settings.delivery.tls
        settings.delivery.caFile = try value("SMTP_CA_FILE")
        if let bounce = try value("BOUNCE_ADDRESS") {
            do { settings.delivery.bounceAddress = try EmailAddress(bounce) } catch { throw invalid("BOUNCE_ADDRESS", error) }
        }
        settings.delivery.connectTimeout = try seconds("SMTP_CONNECT_TIMEOUT", .smtpConnectTimeout) ?? settings.delivery.connectTimeout
        settings.delivery.messageTimeout = try seconds("SMTP_TIMEOUT", .smtpTimeout) ?? settings.delivery.messageTimeout
        settings.delivery.connections = try integer("SMTP_CONNECTIONS", .smtpConnections) ?? settings.delivery.connections
        settings.delivery.rate = try number("SEND_RATE", .sendRate)
        settings.delivery.outboxDirectory = try value("OUTBOX") ?? settings.delivery.outboxDirectory
        settings.delivery.retryBase = try seconds("RETRY_BASE", .retryBase) ?? settings.delivery.retryBase
        settings.delivery.maxAttempts = try integer("MAX_ATTEMPTS", .maxAttempts) ?? settings.delivery.maxAttempts
        settings.delivery.bounceThreshold = try integer("BOUNCE_THRESHOLD", .bounceThreshold) ?? settings.delivery.bounceThreshold
        settings.delivery.bounceResetDays = try integer("BOUNCE_RESET_DAYS", .bounceResetDays) ?? settings.delivery.bounceResetDays
        if let keep = try value("INBOUND_KEEP") { settings.inbound.keepDirectory = keep }
        if let text = try value("INBOUND_URL") {
            guard let url = URL(string: text), ["imap", "imaps", "pop3", "pop3s"].contains(url.scheme?.lowercased() ?? ""), url.host != nil
            else {
                throw ConfigurationError(
                    "PAPERPOST_INBOUND_URL: '\(text)' is not an imap://, imaps://, pop3:// or pop3s:// URL (imaps://mail.example.org/INBOX)")
            }
            settings.inbound.url = text
        }
        settings.inbound.user = try value("INBOUND_USER")
        settings.inbound.password = try value("INBOUND_PASSWORD", isSecret: true)
        settings.inbound.tls = try tls("INBOUND_TLS") ?? settings.inbound.tls
        settings.inbound.caFile = try value("INBOUND_CA_FILE")
        settings.delivery.leaseDuration = try seconds("SEND_LEASE", .sendLease) ?? settings.delivery.leaseDuration
        settings.delivery.breakerThreshold = try integer("SMTP_BREAKER", .smtpBreaker) ?? settings.delivery.breakerThreshold
        settings.web.confirmationLifetime = try integer("CONFIRM_DAYS", .confirmDays).map { .seconds($0 * 86_400) } ?? settings.web.confirmationLifetime
        settings.web.subscribeLimitPerClient = try integer("SUBSCRIBE_LIMIT_CLIENT", .subscribeLimitClient) ?? settings.web.subscribeLimitPerClient
        settings.web.subscribeLimitPerAddress = try integer("SUBSCRIBE_LIMIT_ADDRESS", .subscribeLimitAddress) ?? settings.web.subscribeLimitPerAddress
        settings.web.trustForwardedFor = try flag("TRUST_PROXY") ?? settings.web.trustForwardedFor
        if let token = try value("METRICS_TOKEN", isSecret: true) {
            guard token.utf8.count >= WebSettings.minimumMetricsTokenBytes else {
                throw ConfigurationError(
                    "PAPERPOST_METRICS_TOKEN: is only \(token.utf8.count) byte\(token.utf8.count == 1 ? "" : "s") long; it needs at least "
                        + "\(WebSettings.minimumMetricsTokenBytes) (for example `openssl rand -hex 16`), or leave it unset to serve metrics on loopback only")
            }
            settings.web.metricsToken = token
        }

        if let file, let unknown = file.entries.filter({ !known.contains($0.key) }).min(by: { $0.value.line < $1.value.line }) {
            throw ConfigurationError(
                "\(file.path):\(unknown.value.line): unknown setting \(unknown.key)"
                    + (unknown.key == "PAPERPOST_CONFIG" ? "; it names the configuration file and cannot be set inside it" : "")
                    + (closest(to: unknown.key, in: known).map { "; did you mean \($0)?" } ?? ""))
        }
        // PAPERPOST_CONFIG names the file, and the caller reads it.
        for name in environment.keys.sorted() where name.hasPrefix("PAPERPOST_") && !known.contains(name) && name != "PAPERPOST_CONFIG" {
            warn("warning: \(name) is not a PaperPost setting and is ignored" + (closest(to: name, in: known).map { "; did you mean \($0)?" } ?? ""))
        }
        return settings
    }

    /// The known key nearest to a misspelt one, if it is near enough to be a likely typo.
    private static func closest(to key: String, in known: Set<String>) -> String? {
        let typed = Array(key.uppercased().utf8)
        let best = known.map { candidate in (candidate, editDistance(typed, Array(candidate.utf8))) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best, best.1 > 0, best.1 <= max(2, typed.count / 5) else { return nil }
        return best.0
    }

    /// Levenshtein distance, one row at a time.
    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension Bool {
    /// `true/false`, `yes/no`, `on/off`, `1/0`, as people write them in configuration files.
    public init?(parsingFlag text: String) {
        switch text.lowercased() {
        case "true", "yes", "on", "1": self = true
        case "false", "no", "off", "0": self = false
        default: return nil
        }
    }
}

extension Settings {
    /// Whether ``databasePath`` names a PostgreSQL server (`postgres://…`) instead of a SQLite file.
    public var storesInPostgreSQL: Bool { Self.isPostgresURL(databasePath) }

    public static func isPostgresURL(_ text: String) -> Bool {
        let scheme = text.prefix { $0 != ":" }.lowercased()
        return text.contains("://") && ["postgres", "postgresql"].contains(scheme)
    }

    /// The database setting as given: a SQLite file's path or a PostgreSQL URL, not another
    /// server's URL, which taken for a path would create directories named after it.
    ///
    /// - Throws: ``ConfigurationError`` naming `name` (the variable or flag).
    public static func checkDatabasePath(_ path: String, name: String) throws(ConfigurationError) -> String {
        let scheme = path.prefix { $0 != ":" }.lowercased()
        if path.contains("://"), ["mysql", "mariadb"].contains(scheme) {
            throw ConfigurationError(
                "\(name): '\(scheme)://…' names a database server PaperPost does not support; "
                    + "give the path of a SQLite file, such as var/paperpost.sqlite, or a postgres:// URL")
        }
        return path
    }
}

extension Settings {
    /// Parses an address with this installation's comparison rules.
    public func address(_ text: String) throws(InputError) -> EmailAddress {
        try EmailAddress(text, caseSensitiveLocalPart: caseSensitiveLocalPart)
    }
}
