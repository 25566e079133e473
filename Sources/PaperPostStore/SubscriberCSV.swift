import CSV
import Foundation
import PaperPostCore

/// A problem with one line of an import file, printed as `FILE:LINE: message`.
public struct ImportProblem: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public var description: String { "\(file):\(line): \(message)" }
}

/// Why an import wrote nothing.
public enum ImportError: Error, Sendable, CustomStringConvertible {
    /// The file cannot be used at all (unreadable, not UTF-8, bad header, broken quoting).
    case unusableFile(ImportProblem)
    /// Some rows are invalid and `--skip-invalid` was not given.
    case invalidRows([ImportProblem])

    public var description: String {
        switch self {
        case .unusableFile(let problem):
            "\(problem)"
        case .invalidRows(let problems):
            problems.map(\.description).joined(separator: "\n")
                + "\n\(problems.count) invalid row\(problems.count == 1 ? "" : "s"); nothing was imported "
                + "(fix them, or use --skip-invalid to import the valid rows)"
        }
    }
}

/// The columns of an import or export file. The header names them; their order is free.
public enum SubscriberCSVColumn: String, CaseIterable, Sendable {
    case email, name, categories, language, status
    /// Optional: the reader's interests, muted phrases and followed authors, `;`-separated.
    case interests, muted, authors
    /// Optional: `daily`, or `weekly:mon` … `weekly:fri`.
    case schedule

    /// The interest list a column holds, if it is one.
    var interestKind: ReaderInterests.Kind? {
        switch self {
        case .interests: .interest
        case .muted: .muted
        case .authors: .author
        default: nil
        }
    }
}

/// One valid data row of an import file, with the columns it actually had (a column absent
/// from the file leaves that field of an existing subscriber alone).
struct ImportRow: Sendable {
    var line: Int
    var email: EmailAddress
    var name: String?
    var categories: [String]?
    var language: Language?
    var status: SubscriberStatus?
    var hasName: Bool
    /// The interest lists whose columns the file has (an empty cell clears that list).
    var interests: [ReaderInterests.Kind: [String]] = [:]
    var schedule: Schedule?
}

/// Reads subscriber CSV files with CSV.swift, keeping track of the line each record starts
/// on (a quoted field may span lines), so that every problem names `FILE:LINE`. A message that
/// quotes the file escapes its control characters and cuts long values short (see
/// `String.quotedForMessage`): it goes to a terminal. A field that an export protected from
/// spreadsheets with a leading `'` is read without it (see ``SpreadsheetFormula``).
enum SubscriberCSVReader {
    static func read(_ data: Data, file: String, caseSensitiveLocalPart: Bool) throws(ImportError) -> (rows: [ImportRow], problems: [ImportProblem]) {
        func problem(_ line: Int, _ message: String) -> ImportProblem {
            ImportProblem(file: file, line: line, message: message)
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw .unusableFile(problem(1, "the file is not UTF-8 text"))
        }
        if text.hasPrefix("\u{FEFF}") {
            text.removeFirst()
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: false)
        } catch {
            throw .unusableFile(problem(1, "not a CSV file: \(error)"))
        }

        guard let header = reader.next(), header != [""] else {
            throw .unusableFile(problem(1, "the file is empty; it needs a header line such as 'email,name,categories,language,status'"))
        }
        var columns: [SubscriberCSVColumn: Int] = [:]
        var unknown: [String] = []
        for (index, rawName) in header.enumerated() {
            let name = rawName.trimmingSpaces().lowercased()
            guard let column = SubscriberCSVColumn(rawValue: name) else {
                unknown.append(rawName)
                continue
            }
            guard columns[column] == nil else {
                throw .unusableFile(problem(1, "the column '\(name)' appears twice in the header"))
            }
            columns[column] = index
        }
        guard unknown.isEmpty else {
            let names = unknown.map { "'\($0.quotedForMessage)'" }.joined(separator: ", ")
            let expected = SubscriberCSVColumn.allCases.map(\.rawValue).joined(separator: ", ")
            throw .unusableFile(problem(1, "unknown column\(unknown.count == 1 ? "" : "s") \(names) in the header (the columns are \(expected))"))
        }
        guard columns[.email] != nil else {
            throw .unusableFile(problem(1, "the header has no 'email' column"))
        }

        var rows: [ImportRow] = []
        var problems: [ImportProblem] = []
        var firstLineOfKey: [String: Int] = [:]
        var line = 1 + header.joined().lineBreakCount + 1
        while let fields = reader.next() {
            let recordLine = line
            line += fields.joined().lineBreakCount + 1
            if fields.allSatisfy({ $0.trimmingSpaces().isEmpty }) {
                continue
            }
            guard fields.count <= header.count else {
                problems.append(problem(recordLine, "\(fields.count) fields, but the header has \(header.count)"))
                continue
            }
            func field(_ column: SubscriberCSVColumn) -> String? {
                guard let index = columns[column], index < fields.count else { return nil }
                let value = SpreadsheetFormula.restored(fields[index].trimmingSpaces())
                return value.isEmpty ? nil : value
            }
            do throws(InputError) {
                guard let emailText = field(.email) else {
                    throw InputError.invalidAddress("", reason: "the email field is empty")
                }
                let email = try EmailAddress(emailText, caseSensitiveLocalPart: caseSensitiveLocalPart)
                if let first = firstLineOfKey[email.key] {
                    problems.append(problem(recordLine, "'\(email.value.quotedForMessage)' is a duplicate of line \(first)"))
                    continue
                }
                firstLineOfKey[email.key] = recordLine
                var interests: [ReaderInterests.Kind: [String]] = [:]
                for column in SubscriberCSVColumn.allCases {
                    guard let kind = column.interestKind, columns[column] != nil else { continue }
                    // Each entry may carry the quote an export put before a formula-like cell.
                    let entries = ReaderInterests.parseList(field(column) ?? "").map(SpreadsheetFormula.restored)
                    interests[kind] = try ReaderInterests.validated(entries, as: kind)
                }
                rows.append(
                    ImportRow(
                        line: recordLine,
                        email: email,
                        name: try field(.name).flatMap(Subscriber.validName),
                        // Separators alone name no category: the field counts as empty.
                        categories: try field(.categories).map(ArxivCategory.parseList).flatMap { $0.isEmpty ? nil : $0 },
                        language: try field(.language).map(Language.init(parsing:)),
                        status: try field(.status).map(SubscriberStatus.init(parsing:)),
                        hasName: columns[.name] != nil, interests: interests,
                        schedule: try field(.schedule).map(Schedule.init(parsing:))))
            } catch {
                problems.append(problem(recordLine, "\(error.quotingInputSafely)"))
            }
        }
        if let error = reader.error {
            throw .unusableFile(problem(line, "the CSV is malformed here: \(error)"))
        }
        return (rows, problems)
    }
}

extension InputError {
    /// The same error with the input it quotes escaped and shortened, and its reason escaped
    /// (a reason may quote part of the input, such as an address's domain).
    fileprivate var quotingInputSafely: InputError {
        switch self {
        case .invalidAddress(let address, let reason):
            .invalidAddress(address.quotedForMessage, reason: reason.escapingTerminalControls)
        case .unknownCategory(let code): .unknownCategory(code.quotedForMessage)
        case .invalidLanguage(let value): .invalidLanguage(value.quotedForMessage)
        case .invalidStatus(let value): .invalidStatus(value.quotedForMessage)
        case .invalidDate(let value): .invalidDate(value.quotedForMessage)
        case .invalidValue(let field, let value, let reason):
            .invalidValue(field: field, value: value.quotedForMessage, reason: reason.escapingTerminalControls)
        }
    }
}

extension String {
    /// Line breaks inside a field; `\r\n` counts once (Swift treats it as one character).
    fileprivate var lineBreakCount: Int {
        reduce(0) { $1.isNewline ? $0 + 1 : $0 }
    }
}
