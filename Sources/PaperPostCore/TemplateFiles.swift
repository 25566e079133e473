import Foundation

/// Where a template's text comes from: the operator's directory (`PAPERPOST_TEMPLATES`) when it
/// holds that file, else the copy compiled into the binary. So an installed `paperpost` runs
/// from any working directory, and an operator overrides one template without copying the rest.
public struct TemplateFiles: Sendable, Hashable {
    /// The override directory, if any.
    public var directory: String?

    public init(directory: String?) {
        self.directory = directory
    }

    public enum TemplateError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case unknown(String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read the template '\(path)': \(reason)"
            case .unknown(let name): "no template named '\(name)'"
            }
        }
    }

    /// The text of `name` (a path under the templates directory, such as `web/page.mustache`).
    public func text(_ name: String) throws(TemplateError) -> String {
        if let directory {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path) {
                do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                    throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
                }
            }
        }
        guard let text = EmbeddedTemplates.files[name] else { throw .unknown(name) }
        return text
    }

    /// Where `name` is read from, for error messages.
    public func origin(_ name: String) -> String {
        if let directory {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return "the built-in \(name)"
    }

    /// The names of the templates under `folder` (`web`), built in or overridden.
    public func names(in folder: String) -> [String] {
        let prefix = folder + "/"
        var names = Set(EmbeddedTemplates.files.keys.filter { $0.hasPrefix(prefix) })
        if let directory, let extra = try? FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: directory).appendingPathComponent(folder).path) {
            for name in extra where name.hasSuffix(".mustache") { names.insert(prefix + name) }
        }
        return names.sorted()
    }

    /// The built-in copies, for the test that keeps them equal to `templates/`.
    public static var builtIn: [String: String] { EmbeddedTemplates.files }
}
