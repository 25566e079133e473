import Foundation

/// A file of `KEY=value` lines, read the way systemd's `EnvironmentFile=` reads them, so that
/// one file serves both `--config` and the systemd unit.
///
/// Read here rather than by swift-configuration's own file parser, which splits on `"\n"` only:
/// in a Swift `String` a CRLF is one `Character`, so a file saved with CRLF line ends was read
/// as a single line, every later line ending up inside the first value.
struct ConfigurationFile: Sendable {
    struct Entry: Sendable {
        var value: String
        /// 1-based, for messages that say where to look.
        var line: Int
    }

    let path: String
    /// By key; when a key is set twice the later line wins, as with systemd.
    private(set) var entries: [String: Entry] = [:]

    /// Reads and parses the file at `path`.
    ///
    /// - Throws: ``ConfigurationError`` when the file is missing, unreadable, not UTF-8 or has a
    ///   line that is not `KEY=value`, naming the file and the line.
    static func read(_ path: String) throws(ConfigurationError) -> ConfigurationFile {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError("configuration file '\(path)' does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("configuration file '\(path)' cannot be read (check its permissions)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError("configuration file '\(path)' is not UTF-8 text")
        }
        return try ConfigurationFile(path: path, contents: text)
    }

    /// Parses `contents`: LF, CRLF or CR line ends; a leading byte-order mark; blank lines and
    /// lines starting with `#` or `;` ignored; whitespace around the key and the value trimmed;
    /// one pair of matching single or double quotes around a value removed.
    init(path: String, contents: String) throws(ConfigurationError) {
        self.path = path
        let text = contents.hasPrefix("\u{FEFF}") ? String(contents.dropFirst()) : contents
        // `isNewline` is true for "\n", "\r" and the single Character "\r\n" alike.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError("\(path):\(index + 1): not a KEY=value line")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                throw ConfigurationError("\(path):\(index + 1): the line has no key before '='")
            }
            entries[key] = Entry(value: Self.unquoted(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)), line: index + 1)
        }
    }

    private static func unquoted(_ value: String) -> String {
        guard value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first else { return value }
        return String(value.dropFirst().dropLast())
    }

    /// The values by key, for swift-configuration's provider.
    var values: [String: String] {
        entries.mapValues(\.value)
    }
}
