import Configuration
import SystemPackage
import Foundation

/// Everything PaperPost is configured with, as one value.
///
/// Libraries receive a `Settings` and never read the environment themselves, so that a test
/// builds exactly the configuration it wants. The command line loads it with
/// ``load(environment:configFile:)`` and then applies its flags, which win.
public struct Settings: Sendable {
    /// The SQLite database file (`PAPERPOST_DB`).
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
    /// The language model used for curation; without an API key curation is heuristic.
    public var llm: LLMSettings
    /// Where templates live: prompts, the digest and the email (`PAPERPOST_TEMPLATES`).
    public var templatesDirectory: String
    /// How mail is addressed and signed.
    public var mail: MailSettings
    /// How mail leaves: SMTP, or files in an outbox.
    public var delivery: DeliverySettings
    /// How the web app treats sign-ups.
    public var web: WebSettings

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
        llm: LLMSettings = LLMSettings(),
        templatesDirectory: String = "templates",
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

    /// `smtp://host:587` or `smtps://host:465` (`PAPERPOST_SMTP_URL`); `nil` uses the outbox.
    public var smtpURL: String?
    public var smtpUser: String?
    public var smtpPassword: String?
    /// `PAPERPOST_SMTP_TLS`; `smtps://` is always encrypted.
    public var tls: TLS
    /// A PEM file of certificates to trust besides the system's (`PAPERPOST_SMTP_CA_FILE`),
    /// for a relay with a private CA.
    public var caFile: String?
    /// The envelope sender, where bounces go (`PAPERPOST_BOUNCE_ADDRESS`); default: the From address.
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
    /// Hard bounces on this many distinct digests mark a subscriber bounced (`PAPERPOST_BOUNCE_THRESHOLD`).
    public var bounceThreshold: Int

    public init(
        smtpURL: String? = nil, smtpUser: String? = nil, smtpPassword: String? = nil, tls: TLS = .required,
        caFile: String? = nil, bounceAddress: EmailAddress? = nil, connectTimeout: Duration = .seconds(10),
        messageTimeout: Duration = .seconds(60), connections: Int = 4, rate: Double? = nil,
        outboxDirectory: String = "var/outbox", retryBase: Duration = .seconds(300), maxAttempts: Int = 5,
        bounceThreshold: Int = 3
    ) {
        self.smtpURL = smtpURL
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
    }
}

/// Who mail comes from and what every message carries.
public struct MailSettings: Sendable {
    /// The From header (`PAPERPOST_MAIL_FROM`); its domain also names Message-IDs.
    public var from: Mailbox
    /// `mailto:` address for the List-Unsubscribe header (`PAPERPOST_UNSUBSCRIBE_MAILTO`), if any.
    public var unsubscribeMailto: EmailAddress?
    /// The List-Id (`PAPERPOST_LIST_ID`); by default derived from the base URL's host.
    public var listID: String?
    /// Signs the links in every email (`PAPERPOST_SECRET`); when unset, a secret is generated once
    /// into the database's directory.
    public var secret: String?

    public init(
        from: Mailbox = Mailbox(displayName: "PaperPost", address: try! EmailAddress("digest@example.org")),
        unsubscribeMailto: EmailAddress? = nil, listID: String? = nil, secret: String? = nil
    ) {
        self.from = from
        self.unsubscribeMailto = unsubscribeMailto
        self.listID = listID
        self.secret = secret
    }
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
    /// Stop calling the model in a run once this much is spent (`PAPERPOST_LLM_MAX_COST`).
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

    public init(
        baseURL: String = "https://api.deepseek.com/v1", apiKey: String? = nil, model: String = "deepseek-chat",
        pricePerMillionInput: Double? = nil, pricePerMillionOutput: Double? = nil, currency: String = "CNY",
        maxCost: Double? = nil, concurrency: Int = 4, timeout: Duration = .seconds(120), jsonMode: Bool = true,
        retryDelay: Duration = .seconds(2)
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
    /// Reads `PAPERPOST_*` variables from the environment, then from `configFile` (an
    /// `.env`-style file of `PAPERPOST_…=value` lines, the same format systemd's
    /// `EnvironmentFile=` reads). The environment wins over the file.
    ///
    /// - Throws: ``ConfigurationError`` naming the variable or file that is wrong.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configFile: String? = nil
    ) async throws -> Settings {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment)
        ]
        if let configFile {
            guard FileManager.default.fileExists(atPath: configFile) else {
                throw ConfigurationError("configuration file '\(configFile)' does not exist")
            }
            do {
                providers.append(try await EnvironmentVariablesProvider(environmentFilePath: FilePath(configFile)))
            } catch {
                throw ConfigurationError("configuration file '\(configFile)' cannot be read: \(error)")
            }
        }
        let config = ConfigReader(providers: providers)
        func value(_ name: String) -> String? {
            let text = config.string(forKey: ConfigKey(["paperpost"] + name.split(separator: "_").map { $0.lowercased() }))
            return text.flatMap { $0.isEmpty ? nil : $0 }
        }
        func invalid(_ name: String, _ error: some Error) -> ConfigurationError {
            ConfigurationError("PAPERPOST_\(name): \(error)")
        }

        var settings = Settings()
        if let path = value("DB") {
            settings.databasePath = path
        }
        if let list = value("DEFAULT_CATEGORIES") {
            do { settings.defaultCategories = try ArxivCategory.parseList(list) } catch { throw invalid("DEFAULT_CATEGORIES", error) }
        }
        if let language = value("DEFAULT_LANGUAGE") {
            do { settings.defaultLanguage = try Language(parsing: language) } catch { throw invalid("DEFAULT_LANGUAGE", error) }
        }
        func flag(_ name: String) throws -> Bool? {
            guard let text = value(name) else { return nil }
            guard let on = Bool(parsingFlag: text) else {
                throw ConfigurationError("PAPERPOST_\(name): '\(text)' is not true or false")
            }
            return on
        }
        func url(_ name: String) throws -> String? {
            guard let text = value(name) else { return nil }
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw ConfigurationError("PAPERPOST_\(name): '\(text)' is not an http or https URL")
            }
            return text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        settings.caseSensitiveLocalPart = try flag("CASE_SENSITIVE_LOCAL_PART") ?? settings.caseSensitiveLocalPart
        settings.baseURL = try url("BASE_URL") ?? settings.baseURL
        settings.arxivRSSURL = try url("ARXIV_RSS_URL") ?? settings.arxivRSSURL
        settings.arxivAPIURL = try url("ARXIV_API_URL") ?? settings.arxivAPIURL
        settings.arxivCrossLists = try flag("ARXIV_CROSS_LISTS") ?? settings.arxivCrossLists
        if let text = value("ARXIV_DELAY") {
            guard let seconds = Double(text), seconds >= 0 else {
                throw ConfigurationError("PAPERPOST_ARXIV_DELAY: '\(text)' is not a number of seconds")
            }
            settings.arxivDelay = .milliseconds(Int(seconds * 1000))
        }
        func number(_ name: String, minimum: Double = 0) throws -> Double? {
            guard let text = value(name) else { return nil }
            guard let number = Double(text), number >= minimum, number.isFinite else {
                throw ConfigurationError("PAPERPOST_\(name): '\(text)' is not a number of at least \(minimum)")
            }
            return number
        }
        settings.llm.baseURL = try url("LLM_BASE_URL") ?? settings.llm.baseURL
        settings.llm.apiKey = config.string(forKey: "paperpost.llm.api.key", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        settings.llm.model = value("LLM_MODEL") ?? settings.llm.model
        settings.llm.pricePerMillionInput = try number("LLM_PRICE_INPUT")
        settings.llm.pricePerMillionOutput = try number("LLM_PRICE_OUTPUT")
        if (settings.llm.pricePerMillionInput == nil) != (settings.llm.pricePerMillionOutput == nil) {
            throw ConfigurationError("PAPERPOST_LLM_PRICE_INPUT and PAPERPOST_LLM_PRICE_OUTPUT go together: set both or neither")
        }
        if let currency = value("LLM_CURRENCY") {
            guard currency.count == 3, currency.allSatisfy(\.isLetter) else {
                throw ConfigurationError("PAPERPOST_LLM_CURRENCY: '\(currency)' is not a three-letter currency code such as CNY or USD")
            }
            settings.llm.currency = currency.uppercased()
        }
        settings.llm.maxCost = try number("LLM_MAX_COST")
        settings.llm.concurrency = try number("LLM_CONCURRENCY", minimum: 1).map { Int($0) } ?? settings.llm.concurrency
        settings.llm.timeout = try number("LLM_TIMEOUT", minimum: 1).map { .milliseconds(Int($0 * 1000)) } ?? settings.llm.timeout
        settings.llm.jsonMode = try flag("LLM_JSON_MODE") ?? settings.llm.jsonMode
        settings.llm.retryDelay = try number("LLM_RETRY_DELAY").map { .milliseconds(Int($0 * 1000)) } ?? settings.llm.retryDelay
        settings.templatesDirectory = value("TEMPLATES") ?? settings.templatesDirectory
        if let from = value("MAIL_FROM") {
            do { settings.mail.from = try Mailbox(parsing: from) } catch { throw invalid("MAIL_FROM", error) }
        }
        if let mailto = value("UNSUBSCRIBE_MAILTO") {
            do { settings.mail.unsubscribeMailto = try EmailAddress(mailto) } catch { throw invalid("UNSUBSCRIBE_MAILTO", error) }
        }
        if let listID = value("LIST_ID") {
            guard listID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.".contains($0)) }), listID.contains(".") else {
                throw ConfigurationError("PAPERPOST_LIST_ID: '\(listID)' is not a dotted name such as arxiv-digest.example.org")
            }
            settings.mail.listID = listID
        }
        settings.mail.secret = config.string(forKey: "paperpost.secret", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }

        if let url = value("SMTP_URL") {
            guard let parsed = URL(string: url), ["smtp", "smtps"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw ConfigurationError("PAPERPOST_SMTP_URL: '\(url)' is not an smtp:// or smtps:// URL such as smtp://mail.example.org:587")
            }
            settings.delivery.smtpURL = url
        }
        settings.delivery.smtpUser = value("SMTP_USER")
        settings.delivery.smtpPassword = config.string(forKey: "paperpost.smtp.password", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        if let tls = value("SMTP_TLS") {
            guard let mode = DeliverySettings.TLS(rawValue: tls.lowercased()) else {
                throw ConfigurationError("PAPERPOST_SMTP_TLS: '\(tls)' is not one of required, opportunistic, off")
            }
            settings.delivery.tls = mode
        }
        settings.delivery.caFile = value("SMTP_CA_FILE")
        if let bounce = value("BOUNCE_ADDRESS") {
            do { settings.delivery.bounceAddress = try EmailAddress(bounce) } catch { throw invalid("BOUNCE_ADDRESS", error) }
        }
        settings.delivery.connectTimeout = try number("SMTP_CONNECT_TIMEOUT", minimum: 1).map { .milliseconds(Int($0 * 1000)) } ?? settings.delivery.connectTimeout
        settings.delivery.messageTimeout = try number("SMTP_TIMEOUT", minimum: 1).map { .milliseconds(Int($0 * 1000)) } ?? settings.delivery.messageTimeout
        settings.delivery.connections = try number("SMTP_CONNECTIONS", minimum: 1).map { Int($0) } ?? settings.delivery.connections
        settings.delivery.rate = try number("SEND_RATE").flatMap { $0 > 0 ? $0 : nil }
        settings.delivery.outboxDirectory = value("OUTBOX") ?? settings.delivery.outboxDirectory
        settings.delivery.retryBase = try number("RETRY_BASE").map { .milliseconds(Int($0 * 1000)) } ?? settings.delivery.retryBase
        settings.delivery.maxAttempts = try number("MAX_ATTEMPTS", minimum: 1).map { Int($0) } ?? settings.delivery.maxAttempts
        settings.delivery.bounceThreshold = try number("BOUNCE_THRESHOLD", minimum: 1).map { Int($0) } ?? settings.delivery.bounceThreshold
        settings.web.confirmationLifetime = try number("CONFIRM_DAYS", minimum: 1).map { .seconds(Int($0 * 86_400)) } ?? settings.web.confirmationLifetime
        settings.web.subscribeLimitPerClient = try number("SUBSCRIBE_LIMIT_CLIENT", minimum: 1).map { Int($0) } ?? settings.web.subscribeLimitPerClient
        settings.web.subscribeLimitPerAddress = try number("SUBSCRIBE_LIMIT_ADDRESS", minimum: 1).map { Int($0) } ?? settings.web.subscribeLimitPerAddress
        settings.web.trustForwardedFor = try flag("TRUST_PROXY") ?? settings.web.trustForwardedFor
        return settings
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
