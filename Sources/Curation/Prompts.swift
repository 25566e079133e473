import Crypto
import Foundation
import Mustache
import PaperPostCore

/// The prompt templates under `templates/prompts/`. Each task's version is a hash of its
/// templates' text, so that editing a prompt can never serve answers cached for the old one.
struct Prompts: Sendable {
    struct Task: Sendable {
        var system: MustacheTemplate
        var user: MustacheTemplate
        var version: String
    }

    var score: Task
    var summarize: Task

    /// - Throws: ``CurationError/templates(_:)`` naming the file that is missing or broken.
    init(directory: String?) throws(CurationError) {
        let files = TemplateFiles(directory: directory)
        func load(_ task: String) throws(CurationError) -> Task {
            var texts: [String] = []
            var templates: [MustacheTemplate] = []
            for part in ["system", "user"] {
                let name = "prompts/\(task)-\(part).mustache"
                do {
                    let text = try files.text(name)
                    texts.append(text)
                    templates.append(try MustacheTemplate(string: text))
                } catch {
                    throw .templates("cannot use the prompt template \(files.origin(name)): \(error)")
                }
            }
            let digest = SHA256.hash(data: Data(texts.joined(separator: "\u{0}").utf8))
            let version = task + "-" + digest.prefix(6).hexEncoded
            return Task(system: templates[0], user: templates[1], version: version)
        }
        score = try load("score")
        summarize = try load("summarize")
    }

    static func languageName(_ language: Language) -> String {
        switch language {
        case .zh: "Simplified Chinese"
        case .en: "English"
        }
    }

    static func input(_ paper: Paper) -> [String: Any] {
        ["id": paper.id, "title": paper.title, "abstract": paper.abstract, "categories": paper.categories, "comment": paper.comment ?? ""]
    }

    static func json(_ object: [String: Any]) -> String {
        // Plain dictionaries of strings and arrays of strings always serialise.
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    /// The probe a run sends before its first real call: a few tokens, answered at once by any
    /// endpoint that works. Not a template: there is nothing in it to tune.
    static let probeMessages: [ChatMessage] = [
        .system("This is a connection check before a day's work. Answer with the JSON object {\"ok\": true} and nothing else."),
        .user("INPUT: " + json(["task": "ping"])),
    ]

    func scoreMessages(_ papers: [Paper], languages: [Language]) -> [ChatMessage] {
        let context: [String: Any] = [
            "languages": languages.enumerated().map { index, language in
                ["code": language.rawValue, "name": Self.languageName(language), "last": index == languages.count - 1] as [String: Any]
            },
            "count": papers.count,
            "input": Self.json(["task": "score", "languages": languages.map(\.rawValue), "papers": papers.map(Self.input)]),
        ]
        return [.system(score.system.render(context)), .user(score.user.render(context))]
    }

    func summarizeMessages(_ paper: Paper, language: Language) -> [ChatMessage] {
        let context: [String: Any] = [
            "language_name": Self.languageName(language),
            "title_instruction": language == .en
                ? "the paper's title exactly as given."
                : "the title translated into \(Self.languageName(language)), keeping the name of the method or model as written.",
            "input": Self.json(["task": "summarize", "language": language.rawValue, "paper": Self.input(paper)]),
        ]
        return [.system(summarize.system.render(context)), .user(summarize.user.render(context))]
    }
}

/// Curation cannot run at all (as opposed to a model failure, which falls back to the heuristic).
public enum CurationError: Error, Sendable, CustomStringConvertible {
    case templates(String)
    case nothingFetched(Day?)

    public var description: String {
        switch self {
        case .templates(let message): message
        case .nothingFetched(let day?): "no arXiv announcement is recorded for \(day); run 'paperpost fetch' first"
        case .nothingFetched(nil): "no arXiv announcement is recorded yet; run 'paperpost fetch' first"
        }
    }
}
