import ArgumentParser
import Foundation

struct ExportSubscribers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write every subscriber as CSV, in the format import reads.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The file to write (default: standard output).")
    var file: String?

    func run() async throws {
        let csv = try await global.subscriberStore().exportCSV()
        guard let file else {
            Terminal.write(csv)
            return
        }
        do {
            try Data(csv.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw ValidationError("cannot write '\(file)': \((error as NSError).localizedDescription)")
        }
    }
}
