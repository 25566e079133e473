import Foundation
import TestSupport
import Testing

@Suite("paperpost preview")
struct PreviewCommandTests {
    @Test("each sample subscriber's preview is a MIME message an independent parser accepts, limited to their categories")
    func samplePreviews() async throws {
        try await withTemporaryDirectory { directory in
            let cli = CommandLineRunner(directory: directory, environment: [
                "PAPERPOST_TEMPLATES": CurateCommandTests.templates, "PAPERPOST_BASE_URL": "https://digest.example.org",
                "PAPERPOST_MAIL_FROM": "PaperPost <digest@example.org>",
            ])
            let sample = try #require(Bundle.module.url(forResource: "Fixtures/subscribers", withExtension: "csv"))
            let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
            #expect(try await cli.run("subscribers", "import", sample.path).status == 0)
            #expect(try await cli.run("fetch", "--feed", feed.path).status == 0)
            #expect(try await cli.run("curate").status == 0)

            let active = try JSONSerialization.jsonObject(
                with: Data(try await cli.run("subscribers", "list", "--status", "active", "--format", "json").stdout.utf8)) as? [[String: Any]] ?? []
            #expect(active.count == 10)
            var mailed = 0
            for subscriber in active {
                let email = try #require(subscriber["email"] as? String)
                let categories = try #require(subscriber["categories"] as? [String])
                let result = try await cli.run("preview", email, "--output", "\(email).eml")
                #expect(result.status == 0)
                let path = directory.appendingPathComponent("\(email).eml").path
                guard FileManager.default.fileExists(atPath: path) else {
                    #expect(result.stderr.contains("gets no email for 2025-08-20"))
                    continue
                }
                mailed += 1
                let message = try InspectedMessage.inspect(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
                #expect(message.defects.isEmpty, "\(email): \(message.defects)")
                #expect(message.headers["To"]?.hasSuffix("<\(email)>") == true)
                let text = message.parts[0].text
                #expect(categories.contains { text.contains($0) })
            }
            #expect(mailed >= 8)

            let html = try await cli.run("preview", "li.wei@example.com", "--format", "html")
            #expect(html.stdout.hasPrefix("<!DOCTYPE html>"))
            #expect(html.stdout.contains("李伟，你好！"))
            let missing = try await cli.run("preview", "nobody@example.com")
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("no subscriber with the address 'nobody@example.com'"))
        }
    }
}
