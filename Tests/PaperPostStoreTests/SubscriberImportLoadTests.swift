import Foundation
import GRDB
import PaperPostCore
@testable import PaperPostStore
import Synchronization
import TestSupport
import Testing

/// A large import shares the database with the web server and `send`: it writes in short
/// transactions, leaves the lock free between them, and still writes nothing for a bad file.
@Suite("Subscriber import beside other writers, and when writing fails")
struct SubscriberImportLoadTests {
    static func readers(_ count: Int) -> String {
        var csv = "email,name,categories\n"
        for index in 0..<count {
            csv += "reader\(index)@example.com,Reader \(index),cs.AI\n"
        }
        return csv
    }

    static func early(_ store: SubscriberStore) async throws -> EmailAddress {
        let address = try EmailAddress("early@example.com")
        try await store.add(
            NewSubscriber(email: address, name: "Early", categories: ["cs.LG"], language: .en, status: .active), source: .cli)
        return address
    }

    @Test("between two of a large import's transactions the lock is free: a writer that will not wait at all gets in")
    func lockFreeBetweenTransactions() async throws {
        try await withTemporaryStore { store, _ in
            let early = try await Self.early(store)
            // A second connection that fails at once with "database is locked" instead of waiting.
            let impatient = SubscriberStore(
                database: try PaperPostDatabase.open(path: store.settings.databasePath, busyTimeout: 0), settings: store.settings)
            let rows = 3 * ImportChunking.standard.rows + 500
            let writes = Mutex<[(applied: Int, subscribers: Int)]>([])
            let report = try await store.importCSV(Data(Self.readers(rows).utf8), file: "big.csv", options: ImportOptions()) { progress in
                guard progress.applied < progress.total else { return }
                do {
                    let changed = try await impatient.update(
                        early, SubscriberChange(name: "Early \(progress.applied)"), source: .cli)
                    let subscribers = try await impatient.stats().byStatus.reduce(0) { $0 + $1.1 }
                    #expect(changed.name == "Early \(progress.applied)")
                    writes.withLock { $0.append((progress.applied, subscribers)) }
                } catch {
                    Issue.record("a write between two of the import's transactions failed: \(error)")
                }
            }
            #expect(report.added.count == rows)
            let seen = writes.withLock { $0 }
            #expect(seen.count >= 3, "the import wrote in at least four transactions")
            // Each write went in while the import was part-way: it saw exactly the rows applied so far.
            #expect(seen.allSatisfy { $0.subscribers == $0.applied + 1 && $0.applied < rows })
            #expect(try await store.get(early).name == "Early \(seen.last?.applied ?? -1)")
            #expect(try await store.list().count == rows + 1)
        }
    }

    @Test("unsubscribes on another connection during a large import each wait for at most one of its transactions, not for the import")
    func waitingUnsubscribesGetIn() async throws {
        try await withTemporaryStore { store, _ in
            // The web server's connection, with its readers.
            let server = SubscriberStore(database: try PaperPostDatabase.open(path: store.settings.databasePath), settings: store.settings)
            let readers = (0..<5).map { "listener\($0)@example.com" }
            for address in readers {
                try await server.add(
                    NewSubscriber(email: try EmailAddress(address), name: nil, categories: ["cs.AI"], language: .en, status: .active),
                    source: .cli)
            }
            func subscriberCount() async throws -> Int {
                try await server.stats().byStatus.reduce(0) { $0 + $1.1 }
            }
            // Transactions of 200 rows: thirty of them, so that the import is long in
            // transactions however fast the machine writes.
            let rows = 6_000
            let chunking = ImportChunking(rows: 200, duration: ImportChunking.standard.duration, pause: ImportChunking.standard.pause)
            let importing = Task {
                try await store.importCSV(Data(Self.readers(rows).utf8), file: "big.csv", options: ImportOptions(), chunking: chunking, progress: nil)
            }
            while try await subscriberCount() == readers.count {
                try await Task.sleep(for: .milliseconds(5))
            }
            // Each unsubscribe asks for the lock whenever it comes, mostly while one of the
            // import's transactions holds it; it gets in at the next pause, so the import is
            // still part-way when it is done. (Behind one long transaction, or with SQLite's
            // own back-off that misses the pauses, the first one would wait for the whole import.)
            for address in readers {
                #expect(try await server.unsubscribe(try EmailAddress(address), source: .link))
                let count = try await subscriberCount()
                #expect(count < rows + readers.count, "\(address) was unsubscribed only once the import had finished")
            }
            #expect(try await importing.value.added.count == rows)
            #expect(try await store.list(status: .unsubscribed).map(\.email) == readers)
        }
    }

    @Test("a bad row at the end of a 20,000-row file stops the import before anything is written")
    func badLastRowWritesNothing() async throws {
        try await withTemporaryStore { store, _ in
            let csv = Self.readers(20_000) + "broken-address,Broken,cs.AI\n"
            await #expect {
                try await store.importCSV(Data(csv.utf8), file: "big.csv", options: ImportOptions())
            } throws: { error in
                guard case ImportError.invalidRows(let problems) = error else { return false }
                return problems.listed.map(\.description) == ["big.csv:20002: invalid email address 'broken-address': no '@'"]
            }
            let subscribers = try await store.list()
            #expect(subscribers.isEmpty)
        }
    }

    @Test("when writing fails part-way the committed rows stay, the error says so, and the same import again finishes the job")
    func interruptedImportIsFinishedByRerun() async throws {
        try await withTemporaryStore { store, _ in
            let csv = Data(Self.readers(1_000).utf8)
            let chunking = ImportChunking(rows: 100, duration: .seconds(30), pause: .zero)
            // The write of row 450 fails, as a full disk would.
            try await store.database.writer.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER disk_full BEFORE INSERT ON subscriber WHEN NEW.email = 'reader450@example.com'
                    BEGIN SELECT RAISE(ABORT, 'database or disk is full (simulated)'); END
                    """)
            }
            await #expect {
                try await store.importCSV(csv, file: "big.csv", options: ImportOptions(), chunking: chunking, progress: nil)
            } throws: { error in
                guard let error = error as? ImportInterrupted else { return false }
                return error.applied == 400 && error.total == 1_000 && "\(error)".hasPrefix("big.csv: the import stopped after writing 400 of 1000 rows: ")
                    && "\(error)".contains("disk is full (simulated)") && "\(error)".contains("Run the same import again to finish it")
            }
            #expect(try await store.list().count == 400, "the transactions before the failure stay; the failed one is rolled back")

            try await store.database.writer.write { db in try db.execute(sql: "DROP TRIGGER disk_full") }
            let rerun = try await store.importCSV(csv, file: "big.csv", options: ImportOptions(), chunking: chunking, progress: nil)
            #expect(rerun.added.count == 600)
            #expect(rerun.existing.count == 400)
            let events = try await store.database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM subscriber_event") }
            #expect(events == 1_000, "one 'imported' event per subscriber: the rerun changed nothing it had written")

            try await withTemporaryStore { uninterrupted, _ in
                _ = try await uninterrupted.importCSV(csv, file: "big.csv", options: ImportOptions())
                #expect(try await uninterrupted.exportCSV() == store.exportCSV())
            }
        }
    }

    @Test("a dry run of a large file writes nothing and reports what it would do")
    func chunkedDryRun() async throws {
        try await withTemporaryStore { store, _ in
            let early = try await Self.early(store)
            let csv = Self.readers(500) + "\(early.value),Renamed,cs.LG\n"
            let chunking = ImportChunking(rows: 100, duration: .seconds(30), pause: .zero)
            let report = try await store.importCSV(
                Data(csv.utf8), file: "big.csv", options: ImportOptions(dryRun: true, updateExisting: true), chunking: chunking,
                progress: nil)
            #expect(report.dryRun)
            #expect(report.added.count == 500 && report.updated.listed.map(\.email) == [early.value])
            #expect(try await store.list().map(\.email) == [early.value])
            #expect(try await store.get(early).name == "Early")
        }
    }
}

