import Foundation
import TestSupport
import Testing

/// Configuration as an operator gets it wrong: every refused value stops the command with
/// exit 1 and a message that names the variable (or flag, or file and line), before anything
/// is read, queued or sent.
@Suite("configuration")
struct ConfigurationTests {
    func run(_ arguments: [String], environment: [String: String] = [:], file: String? = nil) async throws -> CommandResult {
        try await withTemporaryDirectory { directory in
            if let file {
                try Data(file.utf8).write(to: directory.appendingPathComponent("paperpost.env"))
            }
            return try await CommandLineRunner(directory: directory, environment: environment).run(arguments)
        }
    }

    @Test("a value that is unsafe or out of range is refused, naming the variable and what it accepts", arguments: [
        // A line break in a value would reach every message's headers.
        ("PAPERPOST_BASE_URL", "http://news.example.org\r\nBcc: victim@example.com", ["U+000D", "no setting may contain one"]),
        ("PAPERPOST_MAIL_FROM", "PaperPost <digest@example.org>\nBcc: victim@example.com", ["U+000A"]),
        ("PAPERPOST_SMTP_USER", "mailer\u{1B}[2J", ["U+001B"]),
        ("PAPERPOST_TEMPLATES", "templates\u{7F}", ["U+007F"]),
        ("PAPERPOST_LLM_MODEL", "deepseek-chat\u{85}", ["U+0085"]),
        ("PAPERPOST_BASE_URL", "http://news.example.org/>, <mailto:victim@example.com", ["is not an http or https URL"]),
        ("PAPERPOST_SEND_RATE", "1e-20", ["'1e-20' is not a number from 0.01 to 100000"]),
        ("PAPERPOST_SEND_RATE", "0", ["without it, no limit"]),
        ("PAPERPOST_SMTP_CONNECTIONS", "100000", ["from 1 to 64"]),
        ("PAPERPOST_SMTP_CONNECTIONS", "2.5", ["not a whole number"]),
        ("PAPERPOST_SMTP_TIMEOUT", "nan", ["'nan'"]),
        ("PAPERPOST_SMTP_CONNECT_TIMEOUT", "0", ["from 1 to 600"]),
        ("PAPERPOST_LLM_CONCURRENCY", "0", ["from 1 to 64"]),
        ("PAPERPOST_LLM_TIMEOUT", "1e300", ["from 1 to 3600"]),
        ("PAPERPOST_LLM_RETRY_DELAY", "-1", ["from 0 to 3600"]),
        ("PAPERPOST_LLM_MAX_COST", "inf", ["'inf'"]),
        ("PAPERPOST_LLM_PRICE_INPUT", "-0.5", ["from 0 to 1000000"]),
        ("PAPERPOST_RETRY_BASE", "1e18", ["from 1 to 86400"]),
        ("PAPERPOST_MAX_ATTEMPTS", "9223372036854775807", ["from 1 to 100"]),
        ("PAPERPOST_BOUNCE_THRESHOLD", "0", ["from 1 to 100"]),
        ("PAPERPOST_CONFIRM_DAYS", "100000", ["from 1 to 365"]),
        ("PAPERPOST_SUBSCRIBE_LIMIT_CLIENT", "0", ["from 1 to 100000"]),
        ("PAPERPOST_SUBSCRIBE_LIMIT_ADDRESS", "1e9", ["from 1 to 1000"]),
        ("PAPERPOST_ARXIV_DELAY", "-3", ["from 0 to 3600"]),
        ("PAPERPOST_HTTP_MAX_BYTES", "1e30", ["whole number"]),
        ("PAPERPOST_SECRET", "", ["set but empty", "at least 32"]),
        ("PAPERPOST_SECRET", "hunter2", ["only 7 bytes", "at least 32"]),
        ("PAPERPOST_SECRET_PREVIOUS", "an-old-secret-of-more-than-32-bytes-long, hunter2", ["secret 2 of 2", "only 7 bytes", "at least 32"]),
        ("PAPERPOST_METRICS_TOKEN", "short-token", ["only 11 bytes", "at least 16"]),
        ("PAPERPOST_TEMPLATES", "/no/such/directory", ["is not a directory", "built-in templates"]),
        ("PAPERPOST_INBOUND_URL", "http://mail.example.org", ["imap://", "pop3://"]),
    ])
    func refusedVariable(name: String, value: String, fragments: [String]) async throws {
        let result = try await run(["subscribers", "list"], environment: [name: value])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("paperpost: \(name): "), "names the variable: \(result.stderr)")
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "\(result.stderr)")
        }
        #expect(!result.stderr.contains("\r") && !result.stderr.contains("Bcc:"), "the value's line break is not echoed")
        if (name.hasPrefix("PAPERPOST_SECRET") || name == "PAPERPOST_METRICS_TOKEN") && !value.isEmpty {
            #expect(!result.stderr.contains(value), "the secret is not echoed")
        }
        #expect(result.stdout.isEmpty)
    }

    @Test("a flag that overrides a variable is held to the same range, before anything is queued", arguments: [
        (["send", "--rate", "1e-20"], "--rate: '1e-20' is not a number from 0.01 to 100000"),
        (["send", "--rate", "0"], "--rate: '0' is not a number from 0.01"),
        (["daily", "--rate", "200000"], "--rate: '200000' is not a number from 0.01 to 100000"),
        (["send", "--connections", "100000"], "--connections: '100000' is not a whole number from 1 to 64"),
        (["curate", "--concurrency", "0"], "--concurrency: '0' is not a whole number from 1 to 64"),
        (["curate", "--max-cost=-1"], "--max-cost: '-1' is not a number from 0"),
        (["curate", "--max-cost", "inf"], "--max-cost: 'inf' is not a number from 0"),
        (["curate", "--must-read", "9223372036854775807", "--more", "1"], "--must-read: '9223372036854775807' is not a whole number from 0 to 100"),
        (["curate", "--must-read", "0", "--more", "0"], "--must-read plus --more must be at least 1"),
        (["serve", "--port", "70000"], "--port: '70000' is not a whole number from 0 to 65535"),
    ])
    func refusedFlag(arguments: [String], message: String) async throws {
        let result = try await run(arguments)
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a secret of 32 bytes is accepted")
    func longEnoughSecret() async throws {
        let result = try await run(["subscribers", "list"], environment: ["PAPERPOST_SECRET": String(repeating: "k", count: 32)])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("a configuration file with CRLF line ends, a byte-order mark, comments and quotes is read line by line")
    func crlfFile() async throws {
        let file = "\u{FEFF}# PaperPost\r\n\r\nPAPERPOST_DEFAULT_LANGUAGE=\"en\"\r\nPAPERPOST_DEFAULT_CATEGORIES = cs.CV,cs.RO\r\n"
        let result = try await run(["subscribers", "add", "ada@example.org", "--config", "paperpost.env"], file: file)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "added ada@example.org (active; cs.CV, cs.RO; en)\n")
        let viaEnvironment = try await run(
            ["subscribers", "add", "ada@example.org"], environment: ["PAPERPOST_CONFIG": "paperpost.env"], file: file)
        #expect(viaEnvironment.stdout == "added ada@example.org (active; cs.CV, cs.RO; en)\n")
        #expect(viaEnvironment.stderr.isEmpty, "PAPERPOST_CONFIG is known: \(viaEnvironment.stderr)")
    }

    @Test("a bad configuration file is refused naming the file, the line and what is wrong", arguments: [
        ("PAPERPOST_DEFAULT_LANGUAGE=en\n# the relay\nPAPERPOST_SMTP_CONECTIONS=8\n",
         "paperpost: paperpost.env:3: unknown setting PAPERPOST_SMTP_CONECTIONS; did you mean PAPERPOST_SMTP_CONNECTIONS?\n"),
        ("PAPERPOST_DB=var/paperpost.sqlite\nTZ=UTC\n", "paperpost: paperpost.env:2: unknown setting TZ\n"),
        ("PAPERPOST_CONFIG=other.env\n", "paperpost: paperpost.env:1: unknown setting PAPERPOST_CONFIG; it names the configuration file and cannot be set inside it\n"),
        // A lone CR ends a line, so the injected header is a line of its own, not part of the value.
        ("PAPERPOST_BASE_URL=http://news.example.org\rBcc: victim@example.com\r", "paperpost: paperpost.env:2: not a KEY=value line\n"),
        ("PAPERPOST_LIST_ID=digest.example.org\u{0}x\n", "paperpost: PAPERPOST_LIST_ID: the value contains a line break or control character (U+0000)"),
        ("PAPERPOST_SMTP_CONNECTIONS=100000\n", "paperpost: PAPERPOST_SMTP_CONNECTIONS: '100000' is not a whole number from 1 to 64"),
    ])
    func badFile(file: String, message: String) async throws {
        let result = try await run(["subscribers", "list", "--config", "paperpost.env"], file: file)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a missing configuration file is refused")
    func missingFile() async throws {
        let result = try await run(["subscribers", "list", "--config", "nowhere.env"])
        #expect(result.status == 1)
        #expect(result.stderr == "paperpost: configuration file 'nowhere.env' does not exist\n")
    }

    @Test("an unknown PAPERPOST_ variable in the environment is a warning, once, not an error")
    func unknownEnvironmentVariable() async throws {
        let result = try await run(["subscribers", "add", "ada@example.org"], environment: ["PAPERPOST_SMTP_CONECTIONS": "8", "OTHER_TOOL": "x"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("added ada@example.org"))
        #expect(result.stderr == "warning: PAPERPOST_SMTP_CONECTIONS is not a PaperPost setting and is ignored; did you mean PAPERPOST_SMTP_CONNECTIONS?\n")
    }
}
