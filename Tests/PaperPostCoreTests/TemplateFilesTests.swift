import Foundation
import PaperPostCore
import Testing

@Suite("Built-in templates")
struct TemplateFilesTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("templates")

    @Test("the compiled-in templates are exactly templates/ (run `make templates` after changing one)")
    func builtInMatchDirectory() throws {
        var onDisk: [String: String] = [:]
        let enumerator = try #require(FileManager.default.enumerator(atPath: Self.directory.path))
        for case let name as String in enumerator where name.hasSuffix(".mustache") {
            onDisk[name] = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
        }
        #expect(onDisk.count >= 16)
        #expect(Set(TemplateFiles.builtIn.keys) == Set(onDisk.keys))
        for (name, text) in onDisk {
            #expect(TemplateFiles.builtIn[name] == text, "\(name) differs from its built-in copy")
        }
    }

    @Test("a directory overrides the templates it holds and leaves the others built in")
    func overrideFileByFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("web"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("mine".utf8).write(to: directory.appendingPathComponent("email.txt.mustache"))
        try Data("extra".utf8).write(to: directory.appendingPathComponent("web/extra.mustache"))
        let files = TemplateFiles(directory: directory.path)
        #expect(try files.text("email.txt.mustache") == "mine")
        #expect(try files.text("email.html.mustache") == TemplateFiles.builtIn["email.html.mustache"])
        #expect(files.names(in: "web").contains("web/extra.mustache"))
        #expect(files.names(in: "web").contains("web/page.mustache"))
        #expect(throws: TemplateFiles.TemplateError.self) { try files.text("nope.mustache") }
    }
}
