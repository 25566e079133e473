import ArgumentParser
import Foundation
import PaperPostStore
import Synchronization

struct ImportSubscribers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import subscribers from CSV.",
        discussion: """
            Columns (header required, any order): email,name,categories,language,status.
            Categories inside a field are separated by ';', ',' or spaces. Every invalid row is
            reported as FILE:LINE: reason and nothing is written, unless --skip-invalid is given.
            Valid rows are written in short transactions, so the web server and a send keep
            working during a large import; if writing stops part-way (a full disk), running the
            same import again finishes it.
            Unsubscribed or bounced addresses are never re-activated unless --resubscribe is given.
            Exit code 3 when --skip-invalid left rows out.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The CSV file.")
    var file: String

    @Flag(help: "Check the file and say what would happen; write nothing.")
    var dryRun = false

    @Flag(help: "Update name, categories, language and status of addresses already on the list.")
    var updateExisting = false

    @Flag(help: "Import the valid rows and list the invalid ones.")
    var skipInvalid = false

    @Flag(help: "Re-activate unsubscribed or bounced addresses (only for people who asked to come back).")
    var resubscribe = false

    func run() async throws {
        // The file is read as the import goes; whether it can be read at all is known first.
        do {
            try FileHandle(forReadingFrom: URL(fileURLWithPath: file)).close()
        } catch {
            throw ValidationError("cannot read '\(file)': \((error as NSError).localizedDescription)")
        }
        let progressLine = ProgressLine()
        let options = ImportOptions(dryRun: dryRun, updateExisting: updateExisting, skipInvalid: skipInvalid, resubscribe: resubscribe)
        let report: ImportReport
        do {
            // In a pipe or a log, a line once the first transaction is in (the file was valid
            // and writing has begun), then one every ten seconds, and the last.
            let lastLine = Mutex(ContinuousClock.now - .seconds(10))
            report = try await global.withSubscribers { [file, dryRun] store, _ in
                try await store.importCSV(contentsOf: URL(fileURLWithPath: file), file: file, options: options) { progress in
                    let line = "\(progress.applied) of \(progress.total) rows \(dryRun ? "checked" : "written")"
                    if progressLine.isTerminal {
                        progressLine.show("\(progressLine.bar(done: progress.applied, of: progress.total)) \(line)")
                        return
                    }
                    let due = lastLine.withLock { last -> Bool in
                        guard ContinuousClock.now - last >= .seconds(10) || progress.applied == progress.total else { return false }
                        last = ContinuousClock.now
                        return true
                    }
                    if due { Terminal.error(line) }
                }
            }
            progressLine.clear()
        } catch {
            progressLine.clear()
            throw error
        }

        for rows in [report.suppressed, report.existing] {
            for entry in rows.listed {
                Terminal.error("\(file):\(entry.line): \(entry.email): \(entry.note ?? "")")
            }
            if rows.unlisted > 0 {
                Terminal.error("… and \(rows.unlisted) more like these")
            }
        }
        for problem in report.invalid.listed {
            Terminal.error("\(problem) (skipped)")
        }
        if report.invalid.unlisted > 0 {
            Terminal.error("… and \(report.invalid.unlisted) more invalid rows (skipped)")
        }
        let verb = report.dryRun ? "would import" : "imported"
        print(
            "\(verb): \(report.added.count) added, \(report.updated.count) updated, \(report.resubscribed.count) resubscribed, "
                + "\(report.unchanged.count + report.existing.count) unchanged, \(report.suppressed.count) suppressed, "
                + "\(report.invalid.count) invalid")
        if !report.invalid.isEmpty {
            throw ExitCode.partial
        }
    }
}
