import Crypto
import Foundation
import Mail
import PaperPostCore
import PaperPostStore
import PostgresStore
import TestSupport
import Testing

/// PaperPost on the PostgreSQL store: what a send and the list's commands read is what SQLite
/// gave, and a database that is not there is named with its password masked.
@Suite("the PostgreSQL store")
struct PostgresStoreCommandTests {
    @Test("after migrate, a send reads the same readers, digests and link key from PostgreSQL as from SQLite, and the list reads the same")
    func sameSendingSources() async throws {
        try await withTemporaryDirectory { directory in
            let cli = try await MigrateCommandTests().installation(directory)
            _ = try await cli.run("subscribers", "pause", "reader1@example.com")
            let url = try await TestPostgres.newDatabase()
            #expect(try await cli.run("migrate", "--to", url).status == 0)
            var onPostgres = cli
            onPostgres.environment["PAPERPOST_DB"] = url
            for command in [
                ["subscribers", "list", "--format", "json"], ["subscribers", "list", "--status", "paused", "--format", "csv"],
                ["subscribers", "list", "--category", "cs.CL"], ["subscribers", "stats", "--format", "json"],
                ["subscribers", "show", "odd@example.com", "--format", "json"], ["subscribers", "export"],
                ["preview", "odd@example.com", "--format", "html"], ["preview", "odd@example.com", "--format", "text"],
            ] {
                let (original, copy) = (try await cli.run(command), try await onPostgres.run(command))
                #expect(copy.status == 0 && copy.stdout.count > 40, "\(command): \(copy.stderr)")
                // Feedback links expire a set time after they are made: the second may differ.
                let expiring = #/feedback\?token=f\.[^\s"&]+/#
                #expect(copy.stdout.replacing(expiring, with: "feedback") == original.stdout.replacing(expiring, with: "feedback"), "\(command)")
            }

            var settings = Settings()
            settings.databasePath = directory.appendingPathComponent("var/paperpost.sqlite").path
            let sqlite = SendingStore(sqlite: try PaperPostDatabase.open(path: settings.databasePath), settings: settings)
            try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: url)) { database in
                let postgres = SendingStore(
                    digests: PostgresCurationStore(database: database), recipients: PostgresSubscriberStore(database: database),
                    deliveries: PostgresDeliveryStore(database: database), linkKey: { try await database.linkKey(Settings()) })
                let filters = [
                    RecipientFilter(), .everyStatus, RecipientFilter(personal: true), RecipientFilter(schedules: [.daily]),
                    RecipientFilter(statuses: [.paused]), RecipientFilter(address: try EmailAddress("ODD@example.com")),
                ]
                for filter in filters {
                    var all: [Recipient] = []
                    try await sqlite.recipients.forEachRecipientPage(filter, pageSize: 2) { all += $0 }
                    var copied: [Recipient] = []
                    try await postgres.recipients.forEachRecipientPage(filter, pageSize: 2) { copied += $0 }
                    #expect(!all.isEmpty || filter.statuses == [.paused] && filter.schedules == nil, "\(filter)")
                    #expect(copied == all, "\(filter)")
                    #expect(try await postgres.recipients.count(filter) == all.count)
                    let ids = all.map(\.subscriberID) + [9_999]
                    #expect(try await postgres.recipients.recipients(ids: ids, filter) == sqlite.recipients.recipients(ids: ids, filter))
                }
                let everyone = try await sqlite.recipients.recipients(only: nil, includingInactive: true)
                #expect(everyone.contains { !$0.interests.isEmpty } && everyone.contains { $0.status == .paused }, "the installation has what the comparison needs")
                #expect(try await postgres.recipients.recipients(ids: [], RecipientFilter()).isEmpty)

                let day = try #require(try await sqlite.digests.latestAnnouncedDay())
                #expect(try await postgres.digests.latestAnnouncedDay() == day)
                for (original, copy) in [
                    (try await sqlite.digests.digest(on: day), try await postgres.digests.digest(on: day)),
                    (try await sqlite.digests.week(endingOn: day.adding(days: 2)), try await postgres.digests.week(endingOn: day.adding(days: 2))),
                ] {
                    let (a, b) = (try #require(original), try #require(copy))
                    #expect(!a.entries.isEmpty)
                    #expect(b.entries == a.entries)
                    #expect(b.day == a.day && b.mode == a.mode && b.model == a.model && b.usage == a.usage && b.notes == a.notes)
                    #expect(b.candidates == a.candidates && b.mustRead == a.mustRead && b.more == a.more)
                    #expect(b.languages == a.languages && b.categories == a.categories && b.createdAt == a.createdAt && b.modelFailure == a.modelFailure)
                }
                #expect(try await postgres.digests.digest(on: day.adding(days: 1)) == nil)

                let key = try await postgres.linkKey()
                #expect(key == (try ServerSecret.load(settings)), "the key migrate copied")
                #expect(try await database.linkKey(Settings()) == key, "read again, not made again")
                var withSecret = Settings()
                withSecret.mail.secret = String(repeating: "z", count: 40)
                #expect(try await database.linkKey(withSecret) == SymmetricKey(data: Data(withSecret.mail.secret!.utf8)))
            }
        }
    }

    @Test("a new PostgreSQL store makes its link key once, and every process reads that one")
    func newLinkKey() async throws {
        let url = try await TestPostgres.newDatabase()
        let keys = try await withThrowingTaskGroup(of: SymmetricKey.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await PostgresDatabase.withDatabase(at: try PostgresLocation(url: url), connections: 1) { try await $0.linkKey(Settings()) }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(keys.count == 4 && Set(keys.map { Data($0.withUnsafeBytes { Data($0) }) }).count == 1)
        #expect(keys[0].bitCount == 256)
    }

    @Test("send and deliveries run on PostgreSQL; a database that is not there is a failure (exit 2) naming it, the password masked")
    func commands() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withTemporaryDirectory { directory in
            let crash = SendCrashTests()
            let cli = try await crash.movedToPostgres(try await crash.prepare(directory, server: server, readers: 12, connections: 2))
            let send = try await cli.run("send", "--force-unsafe")
            #expect(send.status == 0, "\(send.stderr)")
            #expect(send.stdout.contains("12 sent, 0 deferred, 0 failed"), "\(send.stdout)")
            #expect(try await server.messages().count == 12)
            let again = try await cli.run("send", "--force-unsafe")
            #expect(again.status == 0 && again.stdout.contains("0 sent"), "\(again.stdout)")
            #expect(try await server.messages().count == 12, "nobody twice")

            let rows = try await crash.log(cli)
            #expect(rows.count == 12 && rows.allSatisfy { $0["state"] as? String == "sent" && $0["relay"] as? String != nil })
            let one = try await cli.run("deliveries", "--email", "reader3@example.com", "--format", "json")
            #expect(one.stdout.contains("reader3@example.com") && !one.stdout.contains("reader4@"), "\(one.stdout)")
            let stats = try await cli.run("deliveries", "stats", "--format", "csv")
            #expect(stats.stdout.contains("sent,12"), "\(stats.stdout)")
            let relays = try await cli.run("deliveries", "stats", "--by", "relay", "--format", "csv")
            #expect(relays.stdout.contains(",sent,12"), "\(relays.stdout)")

            let digests = try await cli.run("deliveries", "stats", "--by", "digest", "--format", "csv")
            #expect(digests.stdout.contains("2025-08-20,12,0,0,0,0"), "\(digests.stdout)")

            var elsewhere = cli
            let database = try #require(cli.environment["PAPERPOST_DB"])
            let url = try #require(URLComponents(string: database))
            elsewhere.environment["PAPERPOST_DB"] = "postgres://paperpost:hunter2@127.0.0.1:\(url.port ?? 0)/no_such_database?sslmode=disable"
            try Data().write(to: cli.directory.appendingPathComponent("empty.mbox"))
            for command in [["subscribers", "list"], ["inbound", "--mbox", "empty.mbox"], ["send", "--force-unsafe"]] {
                let failed = try await elsewhere.run(command)
                #expect(failed.status == 2, "\(command): \(failed.stderr)")
                #expect(failed.stderr.contains("postgres://paperpost:***@127.0.0.1:\(url.port ?? 0)/no_such_database"), "\(failed.stderr)")
                #expect(!failed.stderr.contains("hunter2"))
            }
            let migrate = try await cli.run("migrate", "--to", try await TestPostgres.newDatabase())
            #expect(migrate.status == 1 && migrate.stderr.contains("give the SQLite database to copy with --from sqlite:PATH"), "\(migrate.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("postgres:").path))
        }
    }
}
