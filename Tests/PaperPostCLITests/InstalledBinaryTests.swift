import Foundation
import TestSupport
import Testing

/// The binary as an installed service runs it: from a directory with no `templates/`.
@Suite("paperpost away from the repository")
struct InstalledBinaryTests {
    @Test("daily runs from an empty working directory on the built-in templates; one overridden template is used, the rest built in")
    func builtInTemplates() async throws {
        try await withTemporaryDirectory { directory in
            let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
            let cli = CommandLineRunner(directory: directory, environment: ["PAPERPOST_SECRET": String(repeating: "s", count: 40)])
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("templates").path))
            #expect(try await cli.run("subscribers", "add", "reader@example.com", "--categories", "cs.AI").status == 0)
            let daily = try await cli.run("daily", "--feed", feed.path, "--transport", "outbox")
            #expect(daily.status == 0, "\(daily.stderr)")
            let eml = directory.appendingPathComponent("var/outbox/2025-08-20/reader@example.com.eml")
            #expect(FileManager.default.fileExists(atPath: eml.path))

            let overrides = directory.appendingPathComponent("my-templates")
            try FileManager.default.createDirectory(at: overrides, withIntermediateDirectories: true)
            try Data("OVERRIDDEN {{date}}\n".utf8).write(to: overrides.appendingPathComponent("email.txt.mustache"))
            let custom = CommandLineRunner(directory: directory, environment: cli.environment.merging(["PAPERPOST_TEMPLATES": overrides.path]) { $1 })
            let preview = try await custom.run("preview", "reader@example.com", "--format", "text")
            #expect(preview.status == 0, "\(preview.stderr)")
            #expect(preview.stdout.contains("OVERRIDDEN"))
            let html = try await custom.run("preview", "reader@example.com", "--format", "html")
            #expect(html.stdout.hasPrefix("<!DOCTYPE html>"))

            let missing = CommandLineRunner(directory: directory, environment: ["PAPERPOST_TEMPLATES": "/nonexistent/templates"])
            let refused = try await missing.run("digest", "show")
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("PAPERPOST_TEMPLATES: '/nonexistent/templates' is not a directory"))
        }
    }
}
