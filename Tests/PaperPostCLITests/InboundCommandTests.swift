import Crypto
import Foundation
import PaperPostCore
import TestSupport
import Testing

/// `paperpost inbound` end to end: a digest is sent, mail comes back to its return path, and
/// the delivery log and the subscribers change as a newsletter operator would expect.
@Suite("paperpost inbound")
struct InboundCommandTests {
    static let secret = "inbound-tests-secret-0123456789abcdef"
    static let day = Day(year: 2025, month: 8, day: 20)!

    /// A sent digest: the sample subscribers, the fixture feed, heuristic curation, the outbox;
    /// on PostgreSQL, the installation copied there once sent.
    static func withSentDigest(_ backend: Backend = .sqlite, _ body: (CommandLineRunner, URL, [String: Int64]) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            var cli = CommandLineRunner(directory: directory, environment: [
                "PAPERPOST_TEMPLATES": CurateCommandTests.templates, "PAPERPOST_BASE_URL": "https://digest.example.org",
                "PAPERPOST_MAIL_FROM": "PaperPost <digest@example.org>", "PAPERPOST_SECRET": secret,
                "PAPERPOST_BOUNCE_ADDRESS": "bounces@example.org", "PAPERPOST_UNSUBSCRIBE_MAILTO": "leave@example.org",
            ])
            let sample = try #require(Bundle.module.url(forResource: "Fixtures/subscribers", withExtension: "csv"))
            let feed = try #require(Bundle.module.url(forResource: "Fixtures/cs.AI-2025-08-20", withExtension: "atom"))
            #expect(try await cli.run("subscribers", "import", sample.path).status == 0)
            #expect(try await cli.run("fetch", "--feed", feed.path).status == 0)
            #expect(try await cli.run("curate").status == 0)
            #expect(try await cli.run("send").status == 0)
            let rows = try json(try await cli.run("deliveries", "list", "--status", "sent", "--format", "json").stdout)
            let ids = try json(try await cli.run("subscribers", "list", "--format", "json").stdout)
            var sent: [String: Int64] = [:]
            for row in rows {
                let email = try #require(row["email"] as? String)
                let id = try #require(ids.first { $0["email"] as? String == email }?["id"] as? Int)
                sent[email] = Int64(id)
            }
            #expect(sent.count >= 4)
            if backend == .postgres { cli = try await SendCrashTests().movedToPostgres(cli) }
            try await body(cli, directory, sent)
        }
    }

    static func json(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    static func returnPath(_ id: Int64) -> String {
        ReturnPath(day: day, subscriberID: id).address(base: try! EmailAddress("bounces@example.org"), key: SymmetricKey(data: Data(secret.utf8)))
    }

    static func dsn(to returnPath: String, recipient: String, status: String, diagnostic: String, id: String) -> String {
        """
        Return-Path: <>
        From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
        To: \(returnPath)
        Subject: Undelivered Mail Returned to Sender
        Message-ID: <\(id)@mx.example.net>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="B"

        --B
        Content-Type: text/plain

        I'm sorry to have to inform you that your message could not be delivered.

        <\(recipient)>: host mx.example.net said: \(diagnostic)

        --B
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.net

        Final-Recipient: rfc822; \(recipient)
        Action: failed
        Status: \(status)
        Diagnostic-Code: smtp; \(diagnostic)

        --B--

        """
    }

    static func subscriber(_ cli: CommandLineRunner, _ email: String) async throws -> [String: Any] {
        try #require(try json(try await cli.run("subscribers", "list", "--format", "json").stdout).first { $0["email"] as? String == email })
    }

    @Test("a DSN in a Maildir bounces the delivery row and moves the score; reading it again changes nothing", arguments: Backend.allCases)
    func bounceThroughMaildir(backend: Backend) async throws {
        try await Self.withSentDigest(backend) { cli, directory, sent in
            let (email, id) = try #require(sent.sorted { $0.key < $1.key }.first)
            let maildir = directory.appendingPathComponent("Maildir")
            for folder in ["new", "cur", "tmp"] {
                try FileManager.default.createDirectory(at: maildir.appendingPathComponent(folder), withIntermediateDirectories: true)
            }
            let bounce = Self.dsn(
                to: Self.returnPath(id), recipient: email, status: "5.1.1", diagnostic: "550 5.1.1 <\(email)>: Recipient address rejected: User unknown",
                id: "first")
            try Data(bounce.utf8).write(to: maildir.appendingPathComponent("new/1700000000.1.mx"))

            let result = try await cli.run("inbound", "--maildir", maildir.path, "--format", "json")
            #expect(result.status == 0, "\(result.stderr)")
            let recorded = try Self.json(result.stdout)
            #expect(recorded.first?["kind"] as? String == "bounce")
            #expect(recorded.first?["result"] as? String == "recorded")
            #expect(try FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("new").path).isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("cur").path) == ["1700000000.1.mx:2,S"])

            let row = try #require(try Self.json(try await cli.run("deliveries", "list", "--email", email, "--format", "json").stdout).first)
            #expect(row["state"] as? String == "bounced")
            #expect((row["last_reply"] as? String)?.contains("User unknown") == true)
            #expect(try await Self.subscriber(cli, email)["bounce_score"] as? Double == 1)

            // The same message again, piped this time: nothing changes.
            let again = try await cli.run(["inbound"], input: bounce)
            #expect(again.status == 0)
            #expect(again.stdout.contains("already recorded"))
            #expect(try await Self.subscriber(cli, email)["bounce_score"] as? Double == 1)

            // Another bounce the same day counts nothing more.
            let second = Self.dsn(to: Self.returnPath(id), recipient: email, status: "5.2.2", diagnostic: "552 5.2.2 Mailbox full", id: "second")
            #expect(try await cli.run(["inbound"], input: second).status == 0)
            #expect(try await Self.subscriber(cli, email)["bounce_score"] as? Double == 1)
            #expect(try await Self.subscriber(cli, email)["status"] as? String == "active")
            let stats = try #require(try Self.json(try await cli.run("deliveries", "stats", "--by", "digest", "--format", "json").stdout).first)
            #expect(stats["hard_bounces"] as? Int == 1)
            #expect(stats["soft_bounces"] as? Int == 1)
        }
    }

    @Test("a complaint and a mailto: unsubscribe unsubscribe; an auto-reply, a forged token and a stray message change nothing", arguments: Backend.allCases)
    func complaintsAndTheRest(backend: Backend) async throws {
        try await Self.withSentDigest(backend) { cli, directory, sent in
            let people = sent.sorted { $0.key < $1.key }
            let (complainer, complainerID) = people[0]
            let complaint = """
                From: Feedback Loop <fbl@isp.example.net>
                To: \(Self.returnPath(complainerID))
                Subject: Abuse report
                MIME-Version: 1.0
                Content-Type: multipart/report; report-type=feedback-report; boundary="F"

                --F
                Content-Type: text/plain

                This is an abuse report.
                --F
                Content-Type: message/feedback-report

                Feedback-Type: abuse
                User-Agent: ISP-FBL/1.0
                Version: 1
                Original-Rcpt-To: \(complainer)

                --F
                Content-Type: text/rfc822-headers

                From: PaperPost <digest@example.org>
                To: \(complainer)
                Subject: PaperPost

                --F--

                """
            let reported = try await cli.run(["inbound", "--format", "json"], input: complaint)
            #expect(reported.status == 0, "\(reported.stderr)")
            #expect(try Self.json(reported.stdout).first?["kind"] as? String == "complaint")
            #expect(try await Self.subscriber(cli, complainer)["status"] as? String == "unsubscribed")

            // The mailto: of List-Unsubscribe, as the reader's mail program sends it.
            let (leaver, _) = people[1]
            let eml = try String(contentsOf: directory.appendingPathComponent("var/outbox/\(Self.day)/\(leaver).eml"), encoding: .utf8)
            let mailto = try #require(eml.range(of: "mailto:leave@example.org?subject=unsubscribe%20"))
            let token = String(eml[mailto.upperBound...].prefix { $0 != ">" })
            let request = "From: \(leaver)\nTo: leave@example.org\nSubject: unsubscribe \(token)\n\n\n"
            #expect(try await cli.run(["inbound"], input: request).status == 0)
            #expect(try await Self.subscriber(cli, leaver)["status"] as? String == "unsubscribed")

            let (away, awayID) = people[2]
            let autoReply = "From: \(away)\nTo: \(Self.returnPath(awayID))\nAuto-Submitted: auto-replied\nSubject: Out of office\n\nBack on Monday.\n"
            let answered = try await cli.run(["inbound", "--format", "json"], input: autoReply)
            #expect(try Self.json(answered.stdout).first?["kind"] as? String == "auto_reply")
            #expect(try await Self.subscriber(cli, away)["status"] as? String == "active")
            #expect(try await Self.subscriber(cli, away)["bounce_score"] as? Double == 0)

            // A return path whose MAC was altered names nobody.
            let (target, targetID) = people[3]
            let genuine = Self.returnPath(targetID)
            let at = try #require(genuine.firstIndex(of: "@"))
            let last = genuine[genuine.index(before: at)]
            let forged = String(genuine[..<genuine.index(before: at)]) + (last == "a" ? "b" : "a") + String(genuine[at...])
            let forgedBounce = Self.dsn(to: forged, recipient: "nobody@nowhere.example", status: "5.1.1", diagnostic: "550 5.1.1 unknown", id: "forged")
            let ignored = try await cli.run(["inbound"], input: forgedBounce)
            #expect(ignored.status == 0)
            #expect(ignored.stdout.contains("names no subscriber"))
            #expect(try await Self.subscriber(cli, target)["bounce_score"] as? Double == 0)

            // One complaint among the digest's deliveries is far above 0.1 %.
            let stats = try await cli.run("deliveries", "stats", "--by", "digest", "--format", "json")
            let digest = try #require(try Self.json(stats.stdout).first)
            #expect(digest["day"] as? String == Self.day.description)
            #expect(digest["complaints"] as? Int == 1)
            #expect(digest["delivered"] as? Int == sent.count)
            #expect(digest["complaint_rate"] as? Double == 1 / Double(sent.count))
            #expect(stats.stderr.contains("complaint rate") && stats.stderr.contains("above 0.1 %"))

            let stray = "From: reader@example.com\nTo: bounces@example.org\nSubject: A question\n\nDo you cover cs.RO?\n"
            let kept = try await cli.run(["inbound"], input: stray)
            #expect(kept.status == 0)
            #expect(kept.stderr.contains("kept at"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("var/inbound/kept").path).count == 1)
        }
    }

    @Test("--poll reads a real IMAP and POP3 mailbox: recorded messages are deleted, a stray one is kept (flagged over IMAP)", arguments: Backend.allCases)
    func pollIMAP(backend: Backend) async throws {
        try await Self.withSentDigest(backend) { cli, directory, sent in
            let server = try await LocalIMAPServer()
            defer { server.stop() }
            var cli = cli
            cli.environment.merge([
                "PAPERPOST_INBOUND_URL": server.url, "PAPERPOST_INBOUND_USER": server.user, "PAPERPOST_INBOUND_PASSWORD": server.password,
                "PAPERPOST_INBOUND_TLS": "off",
            ]) { $1 }
            let (email, id) = try #require(sent.sorted { $0.key < $1.key }.first)
            try server.deliver(
                Self.dsn(to: Self.returnPath(id), recipient: email, status: "5.1.1", diagnostic: "550 5.1.1 No such user", id: "imap-1"),
                name: "1.mx")
            try server.deliver("From: reader@example.com\nTo: bounces@example.org\nSubject: Hello\n\nA question.\n", name: "2.mx")

            let result = try await cli.run("inbound", "--poll", "--format", "json")
            #expect(result.status == 0, "\(result.stderr)")
            let rows = try Self.json(result.stdout)
            #expect(rows.map { $0["kind"] as? String } == ["bounce", "other"])
            #expect(try await Self.subscriber(cli, email)["bounce_score"] as? Double == 1)
            #expect(try server.remaining() == (count: 1, flagged: 1))

            let again = try await cli.run("inbound", "--poll", "--format", "json")
            #expect(again.status == 0)
            #expect(try Self.json(again.stdout).isEmpty)

            cli.environment["PAPERPOST_INBOUND_PASSWORD"] = "wrong"
            let refused = try await cli.run("inbound", "--poll")
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("refused the login"))

            // The same mailbox over POP3: a new bounce is recorded and deleted; the stray
            // message, which POP3 cannot flag, stays and is reported again as already recorded.
            cli.environment["PAPERPOST_INBOUND_URL"] = server.pop3URL
            cli.environment["PAPERPOST_INBOUND_PASSWORD"] = server.password
            let (other, otherID) = try #require(sent.sorted { $0.key < $1.key }.dropFirst().first)
            try server.deliver(
                Self.dsn(to: Self.returnPath(otherID), recipient: other, status: "5.2.2", diagnostic: "552 5.2.2 Mailbox full", id: "pop-1"),
                name: "3.mx")
            let popped = try await cli.run("inbound", "--poll", "--format", "json")
            #expect(popped.status == 0, "\(popped.stderr)")
            let popRows = try Self.json(popped.stdout)
            #expect(Set(popRows.compactMap { $0["kind"] as? String }) == ["bounce", "other"])
            #expect(popRows.first { $0["kind"] as? String == "other" }?["result"] as? String == "already recorded")
            #expect(try await Self.subscriber(cli, other)["bounce_score"] as? Double == 0.5)
            #expect(try server.remaining().count == 1)
        }
    }

    @Test("--dry-run prints each message's classification as JSON and changes nothing")
    func dryRun() async throws {
        try await withTemporaryDirectory { directory in
            let cli = CommandLineRunner(directory: directory)
            let file = directory.appendingPathComponent("bounce.eml")
            try Data(
                Self.dsn(to: "bounces@example.org", recipient: "gone@example.net", status: "5.1.1", diagnostic: "550 5.1.1 No such user", id: "x")
                    .utf8
            ).write(to: file)
            let result = try await cli.run("inbound", "--dry-run", file.path)
            #expect(result.status == 0, "\(result.stderr)")
            let report = try #require(try Self.json(result.stdout).first)
            #expect(report["kind"] as? String == "bounce")
            #expect(report["origin"] as? String == file.path)
            let recipient = try #require((report["recipients"] as? [[String: Any]])?.first)
            #expect(recipient["address"] as? String == "gone@example.net")
            #expect(recipient["status"] as? String == "5.1.1")
            #expect(recipient["reply_code"] as? String == "550")
            #expect(recipient["hard"] as? Bool == true)
            #expect((recipient["diagnostic"] as? String)?.contains("No such user") == true)
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("var/paperpost.sqlite").path))

            // An mbox: two messages, the second's body quoting a "From " line as mboxrd does.
            let mbox = directory.appendingPathComponent("bounces.mbox")
            let dsn = Self.dsn(to: "bounces@example.org", recipient: "gone@example.net", status: "5.1.1", diagnostic: "550 5.1.1 No such user", id: "y")
            let reply = "From: away@example.net\nAuto-Submitted: auto-replied\nSubject: Away\n\nI am away.\n>From here on, nothing.\n"
            try Data(("From MAILER-DAEMON Thu Apr 29 23:34:45 2026\n" + dsn + "\nFrom away@example.net Thu Apr 29 23:35:00 2026\n" + reply).utf8)
                .write(to: mbox)
            let both = try Self.json(try await cli.run("inbound", "--dry-run", "--mbox", mbox.path).stdout)
            #expect(both.map { $0["kind"] as? String } == ["bounce", "auto_reply"])
            #expect(both.map { $0["origin"] as? String } == ["\(mbox.path):1", "\(mbox.path):2"])

            let missing = try await cli.run("inbound", "--dry-run", "nope.eml")
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("nope.eml"))
        }
    }
}
