import CSV
import Foundation

/// How a listing command prints: a table for people, CSV for spreadsheets, JSON for scripts.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, csv, json
}

/// Rows with named columns, printable in every ``OutputFormat``.
///
/// Column names are the JSON keys, so they are snake_case and stable: scripts depend on them.
public struct Listing: Sendable {
    public enum Value: Sendable, Hashable, Encodable {
        case text(String?)
        case number(Int)
        case decimal(Double)
        case flag(Bool)
        case list([String])
        /// Nested rows, for JSON only (a subscriber's history inside `subscribers show`).
        indirect case records([[String: Value]])

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text?): try container.encode(text)
            case .text(nil): try container.encodeNil()
            case .number(let number): try container.encode(number)
            case .decimal(let number): try container.encode(number)
            case .flag(let flag): try container.encode(flag)
            case .list(let items): try container.encode(items)
            case .records(let records): try container.encode(records)
            }
        }

        /// The value as one table or CSV cell: lists joined with `;`, as the import reads them.
        public var cell: String {
            switch self {
            case .text(let text): text ?? ""
            case .number(let number): String(number)
            case .decimal(let number): String(number)
            case .flag(let flag): flag ? "true" : "false"
            case .list(let items): items.joined(separator: ";")
            case .records(let records): "\(records.count)"
            }
        }
    }

    public var columns: [String]
    public var rows: [[Value]]

    public init(columns: [String], rows: [[Value]] = []) {
        self.columns = columns
        self.rows = rows
    }

    public mutating func append(_ row: [Value]) {
        precondition(row.count == columns.count, "a row must have one value per column")
        rows.append(row)
    }

    /// The whole listing as text, ending in a newline.
    public func rendered(as format: OutputFormat) -> String {
        switch format {
        case .table: renderedTable()
        case .csv: renderedCSV()
        case .json: renderedJSON()
        }
    }

    private func renderedTable() -> String {
        let header = columns.map { $0.uppercased().replacingOccurrences(of: "_", with: " ") }
        let cells = rows.map { $0.map { $0.cell.replacingOccurrences(of: "\n", with: " ") } }
        var widths = header.map(\.displayWidth)
        for row in cells {
            for (index, cell) in row.enumerated() {
                widths[index] = max(widths[index], cell.displayWidth)
            }
        }
        func line(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.displayWidth)
            }.joined(separator: "  ")
        }
        return ([line(header)] + cells.map(line)).joined(separator: "\n") + "\n"
    }

    private func renderedCSV() -> String {
        csvLines(header: true)
    }

    /// The rows as CSV lines (each ending in CRLF), after the header line if asked for.
    fileprivate func csvLines(header: Bool) -> String {
        let stream = OutputStream(toMemory: ())
        // Writing to memory cannot fail; CSV.swift only throws for a closed or full stream.
        let writer = try! CSVWriter(stream: stream, newline: .crlf)
        if header { try! writer.write(row: columns) }
        for row in rows {
            try! writer.write(row: row.map(\.cell))
        }
        writer.stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return data.isEmpty ? "" : String(decoding: data, as: UTF8.self) + "\r\n"
    }

    /// Each row as a JSON object keyed by column.
    public var objects: [[String: Value]] {
        rows.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }
    }

    private func renderedJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, numbers and arrays of strings cannot fail.
        let data = try! encoder.encode(objects)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// A listing written as its rows come. CSV and JSON go out a batch of rows at a time, so a
/// listing of a million subscribers holds one batch, and the text is the same as
/// ``Listing/rendered(as:)`` gives; a table needs every row for its column widths and is
/// written at the end.
public struct ListingWriter {
    private var pending: Listing
    private let format: OutputFormat
    private let output: (String) -> Void
    private var started = false
    private var wroteRows = false
    static let batch = 1_000

    public init(columns: [String], format: OutputFormat, output: @escaping (String) -> Void) {
        self.pending = Listing(columns: columns)
        self.format = format
        self.output = output
    }

    public mutating func append(_ row: [Listing.Value]) {
        pending.append(row)
        if format != .table && pending.rows.count >= Self.batch { flush() }
    }

    /// Writes what is left, and the end of the listing.
    public mutating func finish() {
        switch format {
        case .table:
            output(pending.rendered(as: .table))
        case .csv:
            flush()
        case .json:
            if started || !pending.rows.isEmpty {
                flush()
                output("\n]\n")
            } else {
                output(pending.rendered(as: .json))
            }
        }
    }

    private mutating func flush() {
        switch format {
        case .table:
            return
        case .csv:
            output(pending.csvLines(header: !started))
        case .json:
            guard !pending.rows.isEmpty else { return }
            // The batch's objects as the whole array prints them: without its brackets.
            let array = pending.rendered(as: .json)
            let objects = array.dropFirst(2).dropLast(3)
            output((started ? ",\n" : "[\n") + objects)
        }
        started = true
        pending.rows.removeAll(keepingCapacity: true)
    }
}
