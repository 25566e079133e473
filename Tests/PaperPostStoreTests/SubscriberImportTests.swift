import Foundation
import PaperPostCore
@testable import PaperPostStore
import TestSupport
import Testing

@Suite("Subscriber CSV import and export")
struct SubscriberImportTests {
    func importing(_ csv: String, into store: SubscriberStore, _ options: ImportOptions = ImportOptions()) async throws -> ImportReport {
        try await store.importCSV(Data(csv.utf8), file: "people.csv", options: options)
    }

    @Test("a good file imports every row with its fields")
    func goodFile() async throws {
        try await withTemporaryStore { store, _ in
            let report = try await importing(
                """
                status,email,language,categories,name
                active,li.wei@example.com,zh,cs.AI;cs.CL,李伟
                paused,ada@example.org,en,"cs.LG, stat.ML",Ada Lovelace
                ,bob@example.net,,,
                """, into: store)
            #expect(report.added.listed.map(\.email) == ["li.wei@example.com", "ada@example.org", "bob@example.net"])
            let all = try await store.list()
            #expect(all.map(\.name) == ["李伟", "Ada Lovelace", nil])
            #expect(all.map(\.categories) == [["cs.AI", "cs.CL"], ["cs.LG", "stat.ML"], ["cs.AI", "cs.CL", "cs.LG"]])
            #expect(all.map(\.language) == [.zh, .en, .zh])
            #expect(all.map(\.status) == [.active, .paused, .active])
            #expect(try await store.events(of: all[0]).map(\.source) == [.import])
        }
    }

    @Test("every kind of bad row is reported as FILE:LINE and nothing is written")
    func badRows() async throws {
        try await withTemporaryStore { store, _ in
            try await store.add(
                NewSubscriber(email: try EmailAddress("kept@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .active),
                source: .cli)
            let csv = """
                email,name,categories,language,status
                good@example.com,Good,cs.AI,en,active
                not-an-address,X,cs.AI,en,active
                x@example.com,X,cs.XX,en,active
                GOOD@example.com,Again,cs.AI,en,active
                y@example.com,Y,cs.AI,en,sleeping
                z@example.com,Z,cs.AI,fr,active
                w@example.com,W,cs.AI,en,active,extra

                """
            await #expect {
                try await importing(csv, into: store)
            } throws: { error in
                guard case ImportError.invalidRows(let problems) = error else { return false }
                return problems.listed.map(\.description) == [
                    "people.csv:3: invalid email address 'not-an-address': no '@'",
                    "people.csv:4: unknown arXiv category 'cs.XX' (see 'paperpost categories' for the list)",
                    "people.csv:5: 'GOOD@example.com' is a duplicate of line 2",
                    "people.csv:6: invalid status 'sleeping': use one of pending, active, paused, unsubscribed, bounced",
                    "people.csv:7: invalid language 'fr': use zh or en",
                    "people.csv:8: 6 fields, but the header has 5",
                ]
            }
            #expect(try await store.list().map(\.email) == ["kept@example.com"])
        }
    }

    @Test("with --skip-invalid the good rows go in and the bad ones are listed")
    func skipInvalid() async throws {
        try await withTemporaryStore { store, _ in
            let report = try await importing(
                """
                email,categories
                good@example.com,cs.AI
                bad@,cs.AI
                """, into: store, ImportOptions(skipInvalid: true))
            #expect(report.added.listed.map(\.email) == ["good@example.com"])
            #expect(report.invalid.listed.map(\.description) == ["people.csv:3: invalid email address 'bad@': no domain after the '@'"])
            #expect(try await store.list().count == 1)
        }
    }

    @Test("an unknown or missing column stops the import and names the columns")
    func badHeader() async throws {
        try await withTemporaryStore { store, _ in
            await #expect {
                try await importing("email,nickname,Phone\na@example.com,x,1\n", into: store)
            } throws: { error in
                "\(error)" == "people.csv:1: unknown columns 'nickname', 'Phone' in the header (the columns are email, name, categories, language, status, interests, muted, authors, schedule)"
            }
            await #expect {
                try await importing("name,language\nA,en\n", into: store)
            } throws: { error in
                "\(error)" == "people.csv:1: the header has no 'email' column"
            }
            await #expect {
                try await importing("", into: store)
            } throws: { error in
                "\(error)".hasPrefix("people.csv:1: the file is empty")
            }
        }
    }

    @Test("BOM, CRLF, quoted commas, quotes and newlines, and Chinese names all work; line numbers follow the file")
    func awkwardButValidCSV() async throws {
        try await withTemporaryStore { store, _ in
            let csv = "\u{FEFF}email,name,categories\r\n"
                + "a@example.com,\"Hopper, Grace\",cs.AI\r\n"
                + "b@example.com,\"She said \"\"hi\"\"\",cs.LG\r\n"
                + "c@example.com,,\"cs.CL\r\ncs.LG\"\r\n"
                + "d@example.com,王芳,cs.CV\r\n"
                + "broken,王芳,cs.CV\r\n"
            await #expect {
                try await importing(csv, into: store)
            } throws: { error in
                "\(error)" == "people.csv:7: invalid email address 'broken': no '@'\n1 invalid row; nothing was imported (fix them, or use --skip-invalid to import the valid rows)"
            }
            let report = try await importing(csv, into: store, ImportOptions(skipInvalid: true))
            #expect(report.added.listed.map(\.line) == [2, 3, 4, 6])
            let subscribers = try await store.list()
            #expect(subscribers.map(\.name) == ["Hopper, Grace", "She said \"hi\"", nil, "王芳"])
            #expect(subscribers[2].categories == ["cs.CL", "cs.LG"])
        }
    }

    @Test("line numbers count a line break inside a quoted field as a text editor does: LF, CRLF and a lone CR once, a Unicode line separator not at all")
    func lineNumbersAcrossQuotedBreaks() async throws {
        try await withTemporaryStore { store, _ in
            let csv = "email,name\n"
                + "a@example.com,\"A\nB\"\n"
                + "b@example.com,\"C\r\nD\"\n"
                + "c@example.com,\"E\rF\"\n"
                + "d@example.com,\"G\u{2028}H\"\n"
                + "broken,X\n"
            await #expect {
                try await importing(csv, into: store)
            } throws: { error in
                "\(error)".hasPrefix("people.csv:9: invalid email address 'broken'")
            }
        }
    }

    @Test("a line break in a name never reaches a header: it is folded to a space")
    func nameWithLineBreak() async throws {
        try await withTemporaryStore { store, _ in
            _ = try await importing("email,name\na@example.com,\"Eve\nBcc: x@example.org\"\n", into: store)
            #expect(try await store.get(try EmailAddress("a@example.com")).name == "Eve Bcc: x@example.org")
        }
    }

    @Test("messages that quote the file show control characters escaped and cut long values short, still naming FILE:LINE and the field")
    func safeMessages() async throws {
        try await withTemporaryStore { store, _ in
            let huge = "cs." + String(repeating: "X", count: 10_000_000)
            let csv = "email,name,categories\n"
                + "a@example.com,\"Eve\u{1B}]0;pwned\u{07}\u{1B}[2J\",cs.AI\n"
                + "b\u{1B}[31m@example.com,B,cs.AI\n"
                + "c@example.com,C,\(huge)\n"
                + "d@example.com,\"\u{202E}evil\u{2028}\",cs.AI\n"
            await #expect {
                try await importing(csv, into: store)
            } throws: { error in
                guard case ImportError.invalidRows(let problems) = error else { return false }
                return problems.listed.map(\.description) == [
                    #"people.csv:2: invalid name 'Eve\u{1B}]0;pwned\u{7}\u{1B}[2J': contains a control character"#,
                    #"people.csv:3: invalid email address 'b\u{1B}[31m@example.com': contains a control character"#,
                    "people.csv:4: unknown arXiv category '" + huge.prefix(60) + "…' (see 'paperpost categories' for the list)",
                    #"people.csv:5: invalid name '\u{202E}evil': contains a bidirectional override (it could reverse how the text around it reads)"#,
                ]
            }
            await #expect {
                try await importing("email,\u{1B}[5mphone\n", into: store)
            } throws: { error in
                "\(error)" == #"people.csv:1: unknown column '\u{1B}[5mphone' in the header (the columns are email, name, categories, language, status, interests, muted, authors, schedule)"#
            }
            await #expect {
                try await importing("email\n" + String(repeating: "x", count: 300) + "@example.com\n", into: store)
            } throws: { error in
                "\(error)" == "people.csv:2: invalid email address '" + String(repeating: "x", count: 60) + "…': longer than 254 characters"
                    + "\n1 invalid row; nothing was imported (fix them, or use --skip-invalid to import the valid rows)"
            }
        }
    }

    @Test("a name with a line break (a spreadsheet cell may hold one) imports with its whitespace folded to one space")
    func foldedNames() async throws {
        try await withTemporaryStore { store, _ in
            _ = try await importing("email,name,categories\na@example.com,\"Ada\r\n  Lovelace\tKing \",cs.AI\n", into: store)
            #expect(try await store.get(try EmailAddress("a@example.com")).name == "Ada Lovelace King")
        }
    }

    @Test("cells a spreadsheet would run as formulas are exported behind a quote, and import back unchanged")
    func formulaCells() async throws {
        try await withTemporaryStore { store, _ in
            _ = try await importing(
                """
                email,name,categories,language,status
                -dash@example.com,"=HYPERLINK(""http://evil.example/"",""click"")",cs.AI,en,active
                plus@example.com,+1 555 0100,cs.AI,en,active
                minus@example.com,-x,cs.AI,en,active
                at@example.com,@SUM(A1:A9),cs.AI,en,active
                quoted@example.com,'=already quoted,cs.AI,en,active
                plain@example.com,O'Brien,cs.AI,en,active
                """, into: store)
            let names = try await store.list().map(\.name)
            #expect(names == [#"=HYPERLINK("http://evil.example/","click")"#, "+1 555 0100", "-x", "@SUM(A1:A9)", "=already quoted", "O'Brien"])

            let exported = try await store.exportCSV()
            #expect(exported == "email,name,categories,language,status,interests,muted,authors,schedule\r\n"
                + #"'-dash@example.com,"'=HYPERLINK(""http://evil.example/"",""click"")",cs.AI,en,active,,,,daily"# + "\r\n"
                + "plus@example.com,'+1 555 0100,cs.AI,en,active,,,,daily\r\n"
                + "minus@example.com,'-x,cs.AI,en,active,,,,daily\r\n"
                + "at@example.com,'@SUM(A1:A9),cs.AI,en,active,,,,daily\r\n"
                + "quoted@example.com,'=already quoted,cs.AI,en,active,,,,daily\r\n"
                + "plain@example.com,O'Brien,cs.AI,en,active,,,,daily\r\n")

            try await withTemporaryStore { other, _ in
                _ = try await other.importCSV(Data(exported.utf8), file: "export.csv", options: ImportOptions())
                #expect(try await other.list().map(\.name) == names)
                #expect(try await other.list().map(\.email) == store.list().map(\.email))
                #expect(try await other.exportCSV() == exported)
            }
        }
    }

    @Test("the formula guard is exact both ways, a value's own leading quotes included", arguments: [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
        ("'=x", "''=x"), ("''@x", "'''@x"), ("'plain", "'plain"), ("plain", "plain"), ("a=b", "a=b"), ("", ""), ("'", "'"),
    ])
    func formulaGuard(value: String, cell: String) {
        #expect(SpreadsheetFormula.defused(value) == cell)
        #expect(SpreadsheetFormula.restored(cell) == value)
    }

    @Test("export then import into an empty database gives the same export")
    func roundTrip() async throws {
        try await withTemporaryStore { store, _ in
            _ = try await importing(
                """
                email,name,categories,language,status
                li.wei@example.com,李伟,cs.AI;cs.CL,zh,active
                ada@example.org,"Lovelace, Ada",cs.LG,en,paused
                quote@example.org,"A ""quoted"" name",cs.RO,en,pending
                gone@example.com,Gone,cs.AI,en,unsubscribed
                bounce@example.com,,stat.ML,zh,bounced
                """, into: store)
            let first = try await store.exportCSV()
            try await withTemporaryStore { other, _ in
                let report = try await other.importCSV(Data(first.utf8), file: "export.csv", options: ImportOptions())
                #expect(report.added.count == 5)
                #expect(try await other.exportCSV() == first)
            }
        }
    }

    @Test("an unsubscribed or bounced address is never re-activated by an import, unless --resubscribe")
    func suppressionSurvivesImport() async throws {
        try await withTemporaryStore { store, _ in
            _ = try await importing("email,status\ngone@example.com,unsubscribed\nbad@example.com,bounced\n", into: store)
            let csv = "email,status\ngone@example.com,active\nbad@example.com,active\n"

            let plain = try await importing(csv, into: store, ImportOptions(updateExisting: true))
            #expect(plain.suppressed.listed.map(\.email) == ["gone@example.com", "bad@example.com"])
            #expect(try await store.list().map(\.status) == [.unsubscribed, .bounced])

            let again = try await importing(csv, into: store, ImportOptions(resubscribe: true))
            #expect(again.resubscribed.listed.map(\.email) == ["gone@example.com", "bad@example.com"])
            #expect(try await store.list().map(\.status) == [.active, .active])
            let events = try await store.events(of: try await store.get(try EmailAddress("gone@example.com")))
            #expect(events.last?.kind == .resubscribed)
        }
    }

    @Test("a forgotten address is recognised on import and stays suppressed")
    func forgottenStaysSuppressed() async throws {
        try await withTemporaryStore { store, _ in
            _ = try await importing("email\nforget.me@example.com\n", into: store)
            try await store.forget(try EmailAddress("forget.me@example.com"), source: .cli)
            let report = try await importing("email\nForget.Me@example.com\nnew.one@example.com\n", into: store)
            #expect(report.suppressed.listed.map(\.email) == ["Forget.Me@example.com"])
            #expect(report.added.listed.map(\.email) == ["new.one@example.com"])
            #expect(try await store.list().count == 2)
        }
    }

    @Test("known addresses are left alone unless --update-existing, which changes only the columns present")
    func updateExisting() async throws {
        try await withTemporaryStore { store, _ in
            _ = try await importing("email,name,categories,language\na@example.com,A,cs.AI,en\n", into: store)
            let untouched = try await importing("email,categories\na@example.com,cs.LG\n", into: store)
            #expect(untouched.existing.listed.map(\.email) == ["a@example.com"])
            #expect(try await store.list()[0].categories == ["cs.AI"])

            let updated = try await importing("email,categories\na@example.com,cs.LG\n", into: store, ImportOptions(updateExisting: true))
            #expect(updated.updated.listed.map(\.email) == ["a@example.com"])
            let subscriber = try await store.list()[0]
            #expect(subscriber.categories == ["cs.LG"])
            #expect(subscriber.name == "A")
            #expect(subscriber.language == .en)
        }
    }

    @Test("a dry run reports what it would do and writes nothing")
    func dryRun() async throws {
        try await withTemporaryStore { store, _ in
            let report = try await importing("email\na@example.com\nb@example.com\n", into: store, ImportOptions(dryRun: true))
            #expect(report.added.count == 2)
            #expect(report.dryRun)
            #expect(try await store.list().isEmpty)
        }
    }

    @Test("interests, muted phrases and followed authors round-trip through export and import, commas and formulas included")
    func interestColumns() async throws {
        try await withTemporaryStore { store, _ in
            let report = try await importing(
                """
                email,categories,interests,muted,authors,schedule
                a@example.com,cs.AI,"RLHF; graph neural networks, GNNs",=diffusion,"Smith, J.;Yoshua  Bengio",Weekly:Friday
                b@example.com,cs.AI,,,,
                """, into: store)
            #expect(report.added.count == 2)
            let a = try await store.get(try EmailAddress("a@example.com"))
            #expect(a.interests.interests == ["RLHF", "graph neural networks, GNNs"])
            #expect(a.interests.muted == ["=diffusion"])
            #expect(a.interests.authors == ["Smith, J.", "Yoshua Bengio"])
            #expect(try await store.get(try EmailAddress("b@example.com")).interests == .none)
            #expect(a.schedule == .weekly(weekday: 6))
            #expect(try await store.get(try EmailAddress("b@example.com")).schedule == .daily, "an empty cell is the default")

            let exported = try await store.exportCSV()
            #expect(exported.contains(#"a@example.com,,cs.AI,zh,active,"RLHF; graph neural networks, GNNs",'=diffusion,"Smith, J.; Yoshua Bengio",weekly:fri"#))
            try await withTemporaryStore { other, _ in
                _ = try await importing(exported, into: other)
                #expect(try await other.exportCSV() == exported)
                #expect(try await other.get(try EmailAddress("a@example.com")).interests == a.interests)
            }

            // An update changes only the lists whose columns are present; an empty cell clears one.
            _ = try await importing("email,muted\na@example.com,\n", into: store, ImportOptions(updateExisting: true))
            let cleared = try await store.get(try EmailAddress("a@example.com")).interests
            #expect(cleared.muted.isEmpty)
            #expect(cleared.interests == ["RLHF", "graph neural networks, GNNs"])
        }
    }

    @Test("a bad interest entry names the file, line and field, and nothing is imported")
    func badInterests() async throws {
        let many = (1...21).map { "topic \($0)" }.joined(separator: ";")
        let long = String(repeating: "x", count: 101)
        try await withTemporaryStore { store, _ in
            await #expect {
                try await importing("email,interests,authors,schedule\na@example.com,\(many),,\nb@example.com,,\(long),\nc@example.com,,,weekly:sat\n", into: store)
            } throws: { error in
                guard case ImportError.invalidRows(let problems) = error else { return false }
                let lines = problems.listed.map(\.description)
                return lines.count == 3 && lines[0].hasPrefix("people.csv:2: invalid interests") && lines[0].contains("at most 20")
                    && lines[1].hasPrefix("people.csv:3: invalid authors") && lines[1].contains("longer than 100 characters")
                    && lines[2] == "people.csv:4: invalid schedule 'weekly:sat': arXiv announces on weekdays only: choose mon, tue, wed, thu or fri"
            }
            let remaining = try await store.list()
            #expect(remaining.isEmpty)
        }
    }

    @Test("new addresses, added in bulk, get what adding each alone gives them: defaults, dates, interests, events, ids in file order")
    func bulkAddsMatchSingleAdds() async throws {
        let readers = [
            NewSubscriber(
                email: try EmailAddress("first@example.com"), name: "First", categories: ["cs.CL", "cs.AI"], language: .en, status: .active,
                interests: try ReaderInterests(interests: ["retrieval", "RAG agents"], muted: ["diffusion"], authors: ["Yoshua Bengio"]),
                schedule: .weekly(weekday: 2)),
            NewSubscriber(email: try EmailAddress("second@example.com"), name: nil, categories: ["cs.AI", "cs.CL", "cs.LG"], language: .zh, status: .pending),
            NewSubscriber(email: try EmailAddress("third@example.com"), name: "Third", categories: ["stat.ML"], language: .en, status: .unsubscribed),
            NewSubscriber(email: try EmailAddress("fourth@example.com"), name: "Fourth", categories: ["cs.RO"], language: .zh, status: .paused),
        ]
        func described(_ store: SubscriberStore) async throws -> [String] {
            var lines: [String] = []
            for subscriber in try await store.list() {
                let events = try await store.events(of: subscriber).map { "\($0.source.rawValue) \($0.detail ?? "")" }
                lines.append(
                    "\(subscriber.id) \(subscriber.email ?? "") \(subscriber.name ?? "-") \(subscriber.categories) \(subscriber.language) "
                        + "\(subscriber.status) \(subscriber.schedule) \(subscriber.interests) confirmed: \(subscriber.confirmedAt != nil) "
                        + "unsubscribed: \(subscriber.unsubscribedAt != nil) \(events)")
            }
            return lines
        }
        try await withTemporaryStore { one, _ in
            try await withTemporaryStore { bulk, _ in
                let known = NewSubscriber(email: try EmailAddress("known@example.com"), name: nil, categories: ["cs.AI"], language: .en, status: .active)
                for new in [known] + readers {
                    _ = try await one.add(new, source: .import)
                }
                _ = try await bulk.add(known, source: .import)
                let report = try await importing(
                    """
                    email,name,categories,language,status,interests,muted,authors,schedule
                    first@example.com,First,cs.CL;cs.AI,en,active,retrieval;RAG agents,diffusion,Yoshua Bengio,weekly:mon
                    second@example.com,,,,pending,,,,
                    known@example.com,Known,cs.LG,zh,,,,,
                    third@example.com,Third,stat.ML,en,unsubscribed,,,,
                    fourth@example.com,Fourth,cs.RO,zh,paused,,,,daily
                    """, into: bulk)
                #expect(report.added.listed.map(\.line) == [2, 3, 5, 6])
                #expect(report.existing.listed.map(\.email) == ["known@example.com"])
                let imported = try await described(bulk)
                let added = try await described(one)
                #expect(imported == added)
                #expect(imported.count == 5)
            }
        }
    }
}
