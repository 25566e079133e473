import Foundation

public struct CommandError: Error, CustomStringConvertible {
    public var arguments: [String]
    public var status: Int32

    public var description: String {
        "`\(arguments.joined(separator: " "))` exited with status \(status)"
    }
}

/// Runs a tool found on PATH and waits for it, for test setup that is easier with a standard
/// tool (such as gzip) than in Swift. Output goes to the test's own stdout and stderr.
public func runCommand(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CommandError(arguments: arguments, status: process.terminationStatus)
    }
}
