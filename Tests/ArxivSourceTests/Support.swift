import Foundation
import Testing

/// The recorded arXiv documents under Fixtures/ (copied from /work/shared/data/arxiv).
enum Fixture {
    static func data(_ name: String) throws -> Data {
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"),
            "missing fixture \(name)")
        return try Data(contentsOf: url)
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try data(name), as: UTF8.self)
    }

    /// A variant of a real document, for cases arXiv did not happen to record. Each replacement must
    /// apply, so a changed fixture cannot silently turn a test into a no-op.
    static func data(_ name: String, replacing replacements: KeyValuePairs<String, String>) throws -> Data {
        var text = try text(name)
        for (target, replacement) in replacements {
            try #require(text.contains(target), "fixture \(name) does not contain \(target)")
            text = text.replacingOccurrences(of: target, with: replacement)
        }
        return Data(text.utf8)
    }

    /// The first half of a document, as a dropped connection would leave it, with the number of the
    /// line it ends on.
    static func truncated(_ name: String) throws -> (data: Data, lastLine: Int) {
        let whole = try data(name)
        let half = whole.prefix(whole.count / 2)
        return (half, half.count { $0 == UInt8(ascii: "\n") } + 1)
    }
}

/// A UTC instant, written out independently of the parser's own date reading.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(from: DateComponents(
        year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
}
