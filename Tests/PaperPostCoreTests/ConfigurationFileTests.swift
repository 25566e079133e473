import Foundation
@testable import PaperPostCore
import Testing

@Suite("Configuration files")
struct ConfigurationFileTests {
    @Test("LF, CRLF and CR line ends, a byte-order mark, comments and quotes", arguments: ["\n", "\r\n", "\r"])
    func lineEnds(newline: String) throws {
        let text = "\u{FEFF}# PaperPost" + newline + newline + "PAPERPOST_DEFAULT_LANGUAGE = en" + newline
            + "; also a comment" + newline + "PAPERPOST_MAIL_FROM=\"PaperPost <digest@example.org>\"" + newline
            + "PAPERPOST_LIST_ID='digest.example.org'" + newline + "PAPERPOST_LLM_MODEL=a=b" + newline
        let file = try ConfigurationFile(path: "paperpost.env", contents: text)
        #expect(file.values == [
            "PAPERPOST_DEFAULT_LANGUAGE": "en", "PAPERPOST_MAIL_FROM": "PaperPost <digest@example.org>",
            "PAPERPOST_LIST_ID": "digest.example.org", "PAPERPOST_LLM_MODEL": "a=b",
        ])
        #expect(file.entries["PAPERPOST_LIST_ID"]?.line == 6)
    }

    @Test("a line that is not KEY=value is refused with the file and line", arguments: [
        ("PAPERPOST_DB=x\nBcc: victim@example.com\n", "paperpost.env:2: not a KEY=value line"),
        ("PAPERPOST_DB=x\r\n\r\n=value\r\n", "paperpost.env:3: the line has no key before '='"),
    ])
    func badLine(text: String, message: String) {
        #expect { try ConfigurationFile(path: "paperpost.env", contents: text) } throws: { error in
            (error as? ConfigurationError)?.description == message
        }
    }

    @Test("the later of two lines with the same key wins, as with systemd")
    func duplicate() throws {
        let file = try ConfigurationFile(path: "f", contents: "PAPERPOST_DB=a\nPAPERPOST_DB=b\n")
        #expect(file.values["PAPERPOST_DB"] == "b" && file.entries["PAPERPOST_DB"]?.line == 2)
    }
}

@Suite("Settings.load")
struct SettingsLoadTests {
    /// Every variable in the README's Configuration table is one that `load` reads: the warning
    /// for unknown variables would otherwise fire for a documented setting.
    @Test("every variable the README documents is a known setting")
    func readmeVariablesAreKnown() async throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Configuration").dropFirst().first?.components(separatedBy: "\n## ").first)
        let table = section.split(separator: "\n").filter { $0.hasPrefix("| `PAPERPOST_") }.joined(separator: "\n")
        let names = Set(table.matches(of: /PAPERPOST_[A-Z0-9_]+[A-Z0-9]/).map { String($0.output) })
        #expect(names.count > 40)
        // Empty counts as unset (the secret aside, where empty is refused), so nothing is validated but the names.
        let environment = Dictionary(uniqueKeysWithValues: names.subtracting(["PAPERPOST_SECRET"]).map { ($0, "") })
        var warnings: [String] = []
        _ = try await Settings.load(environment: environment, warn: { warnings.append($0) })
        #expect(warnings == [])
    }

    @Test("the secret is refused when empty or short, without being echoed", arguments: ["", "hunter2", String(repeating: "s", count: 31)])
    func shortSecret(secret: String) async throws {
        await #expect { try await Settings.load(environment: ["PAPERPOST_SECRET": secret]) } throws: { error in
            let message = (error as? ConfigurationError)?.description ?? ""
            return message.hasPrefix("PAPERPOST_SECRET: ") && message.contains("32") && (secret.isEmpty || !message.contains(secret))
        }
        let accepted = try await Settings.load(environment: ["PAPERPOST_SECRET": String(repeating: "s", count: 32)])
        #expect(accepted.mail.secret?.utf8.count == 32)
    }

    @Test("DKIM: a key needs a selector, a selector or domain needs a key, and both must be DNS names", arguments: [
        (["PAPERPOST_DKIM_KEY_FILE": "/k.pem"], "PAPERPOST_DKIM_SELECTOR is needed"),
        (["PAPERPOST_DKIM_SELECTOR": "2026a"], "no key: set PAPERPOST_DKIM_KEY_FILE"),
        (["PAPERPOST_DKIM_KEY_FILE": "/k.pem", "PAPERPOST_DKIM_SELECTOR": "a b"], "PAPERPOST_DKIM_SELECTOR: 'a b' is not a DNS name"),
        (["PAPERPOST_DKIM_KEY_FILE": "/k.pem", "PAPERPOST_DKIM_SELECTOR": "s", "PAPERPOST_DKIM_DOMAIN": "example..org"],
         "PAPERPOST_DKIM_DOMAIN: 'example..org' is not a DNS name"),
    ])
    func dkimSettings(environment: [String: String], message: String) async throws {
        await #expect { try await Settings.load(environment: environment) } throws: { error in
            ((error as? ConfigurationError)?.description ?? "").contains(message)
        }
    }

    @Test("DKIM settings as given; the domain defaults to the From domain when the signer is made")
    func dkimAccepted() async throws {
        let settings = try await Settings.load(environment: [
            "PAPERPOST_DKIM_KEY_FILE": "/k.pem", "PAPERPOST_DKIM_ED25519_KEY_FILE": "/k.ed25519", "PAPERPOST_DKIM_SELECTOR": "2026A",
        ])
        #expect(settings.mail.dkim == DKIMSettings(keyFile: "/k.pem", ed25519KeyFile: "/k.ed25519", selector: "2026a", domain: nil))
    }
}
