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
        let stream = OutputStream(toMemory: ())
        // Writing to memory cannot fail; CSV.swift only throws for a closed or full stream.
        let writer = try! CSVWriter(stream: stream, newline: .crlf)
        try! writer.write(row: columns)
        for row in rows {
            try! writer.write(row: row.map(\.cell))
        }
        writer.stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\r\n"
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
