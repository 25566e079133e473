import Foundation
import PaperPostCore
import PaperPostStore

public enum TemporaryDirectory {
    /// A fresh, uniquely named directory under the system temporary directory; the caller
    /// removes it.
    public static func make(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A fresh directory for one test, removed afterwards.
@discardableResult
public func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = try TemporaryDirectory.make(prefix: "paperpost-test")
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// A subscriber store over a new database file in a temporary directory.
@discardableResult
public func withTemporaryStore<T>(
    settings: Settings = Settings(),
    _ body: (SubscriberStore, URL) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        var settings = settings
        settings.databasePath = directory.appendingPathComponent("test.sqlite").path
        let database = try PaperPostDatabase.open(path: settings.databasePath)
        return try await body(SubscriberStore(database: database, settings: settings), directory)
    }
}
