import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// A column of a table being copied, and the PostgreSQL type its values must be written as.
struct CopyColumn: Sendable {
    enum Kind: Sendable {
        case integer, real, boolean, timestamp, bytes, text
    }

    var name: String
    var type: Kind
}

extension CopyColumn.Kind {
    init(postgresType: String) {
        switch postgresType {
        case "bigint", "integer", "smallint": self = .integer
        case "double precision", "real", "numeric": self = .real
        case "boolean": self = .boolean
        case "timestamp with time zone", "timestamp without time zone": self = .timestamp
        case "bytea": self = .bytes
        default: self = .text
        }
    }
}

/// PostgreSQL's `COPY … FROM STDIN` text format: one line per row, columns separated by tabs,
/// `\N` for NULL, and backslash escapes for the characters that would end a field or a line.
enum CopyText {
    /// A stored value that the column's PostgreSQL type cannot take.
    struct Unconvertible: Error, CustomStringConvertible {
        var table: String
        var column: String
        var value: String

        var description: String {
            "'\(table)'.'\(column)' holds \(value), which does not convert; nothing was copied"
        }
    }

    static func append(_ row: [StoredValue], columns: [CopyColumn], table: String, to buffer: inout ByteBuffer) throws {
        for (index, (value, column)) in zip(row, columns).enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            switch field(value, as: column.type) {
            case .null:
                buffer.writeString("\\N")
            case .text(let field):
                appendEscaped(field, to: &buffer)
            case .unconvertible:
                throw PostgresStoreError.schemaMismatch(
                    Unconvertible(table: table, column: column.name, value: "\(value)").description)
            }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// A value as a field of COPY's text format, before escaping.
    enum Field: Equatable {
        case null
        case text(String)
        case unconvertible
    }

    static func field(_ value: StoredValue, as type: CopyColumn.Kind) -> Field {
        text(value, as: type).map(Field.text) ?? (value == .null ? .null : .unconvertible)
    }

    /// The field's text; `nil` for NULL or a value the type cannot take.
    private static func text(_ value: StoredValue, as type: CopyColumn.Kind) -> String? {
        switch (value, type) {
        case (.null, _):
            return nil
        case (.integer(let integer), .integer), (.integer(let integer), .real), (.integer(let integer), .text):
            return String(integer)
        case (.integer(let integer), .boolean):
            return integer == 0 ? "f" : "t"
        case (.real(let real), .integer):
            return real.rounded() == real && abs(real) < 9.2e18 ? String(Int64(real)) : nil
        case (.real(let real), .real), (.real(let real), .text):
            return real.isNaN ? "NaN" : real.isInfinite ? (real < 0 ? "-Infinity" : "Infinity") : "\(real)"
        case (.text(let text), .timestamp):
            // GRDB's `yyyy-MM-dd HH:mm:ss.SSS`, always UTC and written without a zone.
            return text.contains("+") || text.hasSuffix("Z") ? text : text + "+00"
        case (.integer(let seconds), .timestamp):
            return timestamp(Double(seconds))
        case (.real(let seconds), .timestamp):
            return timestamp(seconds)
        case (.text(let text), .integer), (.text(let text), .real), (.text(let text), .text):
            return text
        case (.blob(let bytes), .bytes):
            return "\\x" + bytes.hexEncoded
        case (.text(let text), .bytes):
            return "\\x" + Array(text.utf8).hexEncoded
        case (.blob(let bytes), .text):
            return String(validating: bytes, as: UTF8.self)
        default:
            return nil
        }
    }

    private static func timestamp(_ secondsSince1970: Double) -> String {
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return format.string(from: Date(timeIntervalSince1970: secondsSince1970))
    }

    private static func appendEscaped(_ field: String, to buffer: inout ByteBuffer) {
        for byte in field.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeString("\\\\")
            case UInt8(ascii: "\n"): buffer.writeString("\\n")
            case UInt8(ascii: "\r"): buffer.writeString("\\r")
            case UInt8(ascii: "\t"): buffer.writeString("\\t")
            default: buffer.writeInteger(byte)
            }
        }
    }
}
