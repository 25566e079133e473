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
    /// Some rows are invalid and `--skip-invalid` was not given: the first of them, and how many.
    case invalidRows(ListedRows<ImportProblem>)

    public var description: String {
        switch self {
        case .unusableFile(let problem):
            "\(problem)"
        case .invalidRows(let problems):
            problems.listed.map(\.description).joined(separator: "\n")
                + (problems.unlisted > 0 ? "\n… and \(problems.unlisted) more" : "")
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
package struct ImportRow: Sendable {
    package var line: Int
    package var email: EmailAddress
    var name: String?
    var categories: [String]?
    var language: Language?
    var status: SubscriberStatus?
    var hasName: Bool
    /// The interest lists whose columns the file has (an empty cell clears that list).
    var interests: [ReaderInterests.Kind: [String]] = [:]
    var schedule: Schedule?
}

/// A data row of an import file as read: valid, or what is wrong with it.
enum ReadRow {
    case row(ImportRow)
    case problem(ImportProblem)
}

/// Reads subscriber CSV files with CSV.swift a row at a time, keeping track of the line each
/// record starts on (a quoted field may span lines), so that every problem names `FILE:LINE`.
/// A message that quotes the file escapes its control characters and cuts long values short
/// (see `String.quotedForMessage`): it goes to a terminal. A field that an export protected
/// from spreadsheets with a leading `'` is read without it (see ``SpreadsheetFormula``).
///
/// Rows are checked one by one; whether an address appears twice is the import's question
/// (it keeps the rows it has read, on disk).
struct SubscriberCSVReader {
    let file: String
    let caseSensitiveLocalPart: Bool
    private let reader: CSVReader
    private let stream: InputStream
    private let columns: [SubscriberCSVColumn: Int]
    private let headerCount: Int
    /// The line the next record starts on.
    private var line: Int

    /// Reads the header. A byte-order mark is skipped; bytes that are not UTF-8 stop the
    /// import at the line they are on.
    init(stream: InputStream, file: String, caseSensitiveLocalPart: Bool) throws(ImportError) {
        self.file = file
        self.caseSensitiveLocalPart = caseSensitiveLocalPart
        self.stream = stream
        func problem(_ message: String) -> ImportError { .unusableFile(ImportProblem(file: file, line: 1, message: message)) }
        do {
            reader = try CSVReader(stream: stream, hasHeaderRow: false)
        } catch {
            throw problem(Self.describe(error, file: file))
        }
        guard let header = reader.next(), header != [""] else {
            if let error = Self.failure(of: reader, stream) { throw problem(Self.describe(error, file: file)) }
            throw problem("the file is empty; it needs a header line such as 'email,name,categories,language,status'")
        }
        if let error = Self.failure(of: reader, stream) { throw problem(Self.describe(error, file: file)) }
        var columns: [SubscriberCSVColumn: Int] = [:]
        var unknown: [String] = []
        for (index, rawName) in header.enumerated() {
            let name = rawName.trimmingSpaces().lowercased()
            guard let column = SubscriberCSVColumn(rawValue: name) else {
                unknown.append(rawName)
                continue
            }
            guard columns[column] == nil else {
                throw problem("the column '\(name)' appears twice in the header")
            }
            columns[column] = index
        }
        guard unknown.isEmpty else {
            let names = unknown.map { "'\($0.quotedForMessage)'" }.joined(separator: ", ")
            let expected = SubscriberCSVColumn.allCases.map(\.rawValue).joined(separator: ", ")
            throw problem("unknown column\(unknown.count == 1 ? "" : "s") \(names) in the header (the columns are \(expected))")
        }
        guard columns[.email] != nil else {
            throw problem("the header has no 'email' column")
        }
        self.columns = columns
        self.headerCount = header.count
        self.line = 1 + header.reduce(0) { $0 + $1.lineBreakCount } + 1
    }

    /// The next data row, or what is wrong with it; `nil` at the end of the file.
    ///
    /// - Throws: ``ImportError/unusableFile(_:)`` when the file cannot be read on from here
    ///   (broken quoting, bytes that are not UTF-8).
    mutating func next() throws(ImportError) -> ReadRow? {
        try nextRecord().map(rowCheck.row)
    }

    /// The next record that is not blank, as read and not yet checked (``SubscriberRowCheck``
    /// checks it, on another core while the reader goes on); `nil` at the end of the file.
    ///
    /// - Throws: ``ImportError/unusableFile(_:)`` when the file cannot be read on from here.
    mutating func nextRecord() throws(ImportError) -> CSVRecord? {
        while let fields = reader.next() {
            let recordLine = line
            line += fields.reduce(0) { $0 + $1.lineBreakCount } + 1
            if let error = Self.failure(of: reader, stream) {
                throw .unusableFile(ImportProblem(file: file, line: recordLine, message: Self.describe(error, file: file)))
            }
            if fields.allSatisfy({ $0.trimmingSpaces().isEmpty }) {
                continue
            }
            return CSVRecord(fields: fields, line: recordLine)
        }
        if let error = Self.failure(of: reader, stream) {
            throw .unusableFile(ImportProblem(file: file, line: line, message: Self.describe(error, file: file)))
        }
        return nil
    }

    /// How this file's records are checked: its name and header, and the address rules.
    var rowCheck: SubscriberRowCheck {
        SubscriberRowCheck(file: file, caseSensitiveLocalPart: caseSensitiveLocalPart, columns: columns, headerCount: headerCount)
    }

    /// The reader's error, if it is one. Reading a file stream to its end reports
    /// `cannotReadFile` (on Linux a file stream says it has bytes until a read returns none),
    /// which is the end of the file, not a failure.
    private static func failure(of reader: CSVReader, _ stream: InputStream) -> (any Error)? {
        guard let error = reader.error else { return nil }
        if case .cannotReadFile? = error as? CSVError, stream.streamStatus == .atEnd { return nil }
        return error
    }

    private static func describe(_ error: any Error, file: String) -> String {
        switch error as? CSVError {
        case .unicodeDecoding?: "the file is not UTF-8 text"
        case .cannotOpenFile?, .cannotReadFile?: "cannot read the file"
        case .streamErrorHasOccurred(let cause)?: "cannot read the file: \(cause)"
        default: "the CSV is malformed here: \(error)"
        }
    }
}

/// A record of an import file as read, before it is checked.
struct CSVRecord: Sendable {
    var fields: [String]
    /// The line the record starts on.
    var line: Int
}

/// Checks the records of one import file: a value, so that checking a batch of records runs
/// on another core while the reader reads the next.
struct SubscriberRowCheck: Sendable {
    let file: String
    let caseSensitiveLocalPart: Bool
    let columns: [SubscriberCSVColumn: Int]
    let headerCount: Int

    func row(_ record: CSVRecord) -> ReadRow {
        let fields = record.fields
        let recordLine = record.line
        func problem(_ message: String) -> ImportProblem {
            ImportProblem(file: file, line: recordLine, message: message)
        }
        guard fields.count <= headerCount else {
            return .problem(problem("\(fields.count) fields, but the header has \(headerCount)"))
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
            var interests: [ReaderInterests.Kind: [String]] = [:]
            for column in SubscriberCSVColumn.allCases {
                guard let kind = column.interestKind, columns[column] != nil else { continue }
                // Each entry may carry the quote an export put before a formula-like cell.
                let entries = ReaderInterests.parseList(field(column) ?? "").map(SpreadsheetFormula.restored)
                interests[kind] = try ReaderInterests.validated(entries, as: kind)
            }
            return .row(
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
            return .problem(problem("\(error.quotingInputSafely)"))
        }
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
    /// Line breaks inside a field, as a text editor numbers lines: `\n`, `\r\n` (once) and a
    /// lone `\r`. Counted in bytes: a line break is ASCII, and a million rows should not pay
    /// for Unicode's grapheme breaking.
    fileprivate var lineBreakCount: Int {
        var count = 0
        var afterCR = false
        for byte in utf8 {
            if byte == 10 {
                if !afterCR { count += 1 }
                afterCR = false
            } else {
                if byte == 13 { count += 1 }
                afterCR = byte == 13
            }
        }
        return count
    }
}
