import Foundation

/// A single status line on stderr that rewrites itself on a terminal and stays silent in a
/// pipe or a log, where only the final summary belongs.
struct ProgressLine: Sendable {
    let isTerminal = isatty(STDERR_FILENO) == 1

    func show(_ text: String) {
        guard isTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
    }

    func clear() {
        guard isTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
