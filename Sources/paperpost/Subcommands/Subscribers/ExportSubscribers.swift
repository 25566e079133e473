import ArgumentParser
import Foundation
import PaperPostStore

struct ExportSubscribers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write every subscriber as CSV, in the format import reads.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The file to write (default: standard output).")
    var file: String?

    func run() async throws {
        try await global.withSubscribers { store, _ in try await export(store) }
    }

    private func export(_ store: any SubscriberRegistry) async throws {
        guard let file else {
            try await store.exportCSV { Terminal.write($0) }
            return
        }
        // Written beside the file and renamed over it at the end: a reader of the file never
        // sees half an export.
        let url = URL(fileURLWithPath: file)
        let partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
        let handle: FileHandle
        do {
            guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            handle = try FileHandle(forWritingTo: partial)
        } catch {
            throw ValidationError("cannot write '\(file)': \((error as NSError).localizedDescription)")
        }
        let failure = WriteFailure()
        do {
            try await store.exportCSV { text in
                guard failure.error == nil else { return }
                do { try handle.write(contentsOf: Data(text.utf8)) } catch { failure.error = error }
            }
            try handle.close()
            if let error = failure.error { throw error }
            guard rename(partial.path, url.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw ValidationError("cannot write '\(file)': \((error as NSError).localizedDescription)")
        }
    }
}

/// The first error writing the export hit; the rest of the rows are not written.
private final class WriteFailure {
    var error: (any Error)?
}
