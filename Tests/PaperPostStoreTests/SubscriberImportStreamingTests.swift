import Foundation
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

/// A large file is read as the import goes, its checked rows kept on disk beside the database,
/// and the report counts every row but lists only the first of each kind.
@Suite("Subscriber import read as it goes")
struct SubscriberImportStreamingTests {
    func write(_ text: String, to directory: URL, bytes: [UInt8] = []) throws -> URL {
        let url = directory.appendingPathComponent("people.csv")
        try (Data(text.utf8) + Data(bytes)).write(to: url)
        return url
    }

    /// Files beside the database other than the database's own.
    func leftovers(_ store: SubscriberStore) throws -> [String] {
        let path = store.settings.databasePath
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".import-") }
    }

    @Test("a file on disk with a byte-order mark and CRLF imports; no staging file is left behind")
    func fromFile() async throws {
        try await withTemporaryStore { store, directory in
            let url = try write("\u{FEFF}email,name,categories\r\na@example.com,A,cs.AI\r\n\"b@example.com\",\"B, the second\",cs.LG\r\n", to: directory)
            let report = try await store.importCSV(contentsOf: url, file: "people.csv", options: ImportOptions())
            #expect(report.added.listed.map(\.email) == ["a@example.com", "b@example.com"])
            let second = try await store.get(try EmailAddress("b@example.com"))
            #expect(second.name == "B, the second")
            #expect(try leftovers(store).isEmpty)
        }
    }

    @Test("bytes that are not UTF-8 stop the import at their line, and nothing is written")
    func notUTF8() async throws {
        try await withTemporaryStore { store, directory in
            let url = try write("email,name\na@example.com,A\nb@example.com,B\nc@example.com,", to: directory, bytes: [0xC3, 0x28, 0x0A])
            await #expect {
                try await store.importCSV(contentsOf: url, file: "people.csv", options: ImportOptions())
            } throws: { error in
                "\(error)" == "people.csv:4: the file is not UTF-8 text"
            }
            #expect(try await store.list().isEmpty)
            #expect(try leftovers(store).isEmpty, "the staging file goes when the import fails too")
        }
    }

    @Test("an address twice, thousands of rows apart, is a duplicate of its first line")
    func duplicateFarApart() async throws {
        try await withTemporaryStore { store, _ in
            var csv = "email,categories\n"
            for index in 0..<12_000 { csv += "reader\(index)@example.com,cs.AI\n" }
            csv += "READER7@Example.com,cs.LG\n"
            await #expect {
                try await store.importCSV(Data(csv.utf8), file: "big.csv", options: ImportOptions())
            } throws: { error in
                guard case ImportError.invalidRows(let problems) = error else { return false }
                return problems.count == 1 && problems.listed.map(\.description) == ["big.csv:12002: 'READER7@Example.com' is a duplicate of line 9"]
            }
            let written = try await store.list()
            #expect(written.isEmpty)
        }
    }

    @Test("rows are checked on one core while the next are read: problems of many batches come out in the order of their lines")
    func problemsInLineOrderAcrossBatches() async throws {
        try await withTemporaryStore { store, _ in
            var csv = "email,categories\n"
            var expected: [String] = []
            for index in 0..<9_000 {
                let line = index + 2
                if index % 997 == 0 {
                    csv += "broken\(index),cs.AI\n"
                    expected.append("big.csv:\(line): invalid email address 'broken\(index)': no '@'")
                } else if index % 1_499 == 0 {
                    csv += "reader\(index - 1_000)@example.com,cs.AI\n"
                    expected.append("big.csv:\(line): 'reader\(index - 1_000)@example.com' is a duplicate of line \(line - 1_000)")
                } else {
                    csv += "reader\(index)@example.com,cs.AI\n"
                }
            }
            await #expect {
                try await store.importCSV(Data(csv.utf8), file: "big.csv", options: ImportOptions())
            } throws: { error in
                guard case ImportError.invalidRows(let problems) = error else { return false }
                return problems.listed.map(\.description) == expected
            }
            let written = try await store.list()
            #expect(written.isEmpty)
        }
    }

    @Test("the report counts every row but lists the first thousand of each kind; the error does too")
    func listedRows() async throws {
        try await withTemporaryStore { store, _ in
            let rows = ListedRows<ImportReport.Entry>.limit + 200
            var csv = "email,categories\n"
            for index in 0..<rows { csv += "reader\(index)@example.com,cs.AI\n" }
            let first = try await store.importCSV(Data(csv.utf8), file: "big.csv", options: ImportOptions())
            #expect(first.added.count == rows && first.added.listed.count == ListedRows<ImportReport.Entry>.limit)
            #expect(first.added.listed.last?.email == "reader999@example.com")
            let again = try await store.importCSV(Data(csv.utf8), file: "big.csv", options: ImportOptions())
            #expect(again.existing.count == rows && again.existing.unlisted == 200 && again.added.isEmpty)

            var bad = "email,categories\n"
            for index in 0..<rows { bad += "broken\(index),cs.AI\n" }
            await #expect {
                try await store.importCSV(Data(bad.utf8), file: "bad.csv", options: ImportOptions())
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix("bad.csv:2: invalid email address 'broken0': no '@'\n") && text.contains("\n… and 200 more\n")
                    && text.hasSuffix("\(rows) invalid rows; nothing was imported (fix them, or use --skip-invalid to import the valid rows)")
            }
        }
    }
}
