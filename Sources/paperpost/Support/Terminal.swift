import Foundation

/// Where output goes: results on stdout, diagnostics on stderr.
enum Terminal {
    static func error(_ message: String) {
        fflush(nil)
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
    }

    /// Through `print`, so it stays in order with everything else printed to stdout.
    static func write(_ text: String) {
        print(text, terminator: "")
    }
}
