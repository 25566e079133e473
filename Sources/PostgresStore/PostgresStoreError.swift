/// A failure of the PostgreSQL store or of a copy into it; each says what to do next.
public enum PostgresStoreError: Error, Sendable, CustomStringConvertible {
    case badURL(String, reason: String)
    case cannotConnect(PostgresLocation, reason: String)
    /// The database holds another application's tables and no record of PaperPost's schema.
    case foreignDatabase(PostgresLocation, tables: [String])
    /// A copy goes into an empty PaperPost database only; this one holds rows already.
    case notEmpty(PostgresLocation, table: String, rows: Int)
    /// A send holds a lease on the source: copying now would leave its last minutes behind.
    case sendRunning(day: String, owner: String, until: String)
    /// The two schemas disagree, which is a bug of this version of PaperPost, not of the data.
    case schemaMismatch(String)
    /// After the copy, a table holds a different number of rows than the snapshot it came from.
    case countMismatch(table: String, source: Int, copied: Int)
    case query(PostgresLocation, String)

    public var description: String {
        switch self {
        case .badURL(let url, let reason):
            "'\(url)' is not a PostgreSQL URL: \(reason)"
        case .cannotConnect(let location, let reason):
            "cannot connect to \(location): \(reason) (check the host, port, user, password and database, "
                + "and that the server accepts connections from this host)"
        case .foreignDatabase(let location, let tables):
            "\(location) is not a PaperPost database: it holds another application's tables ("
                + tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? " and \(tables.count - 5) more" : "")
                + "), so nothing was written to it. Create a database for PaperPost (createdb paperpost) and name that one"
        case .notEmpty(let location, let table, let rows):
            "\(location) already holds PaperPost data (\(rows) rows in '\(table)'), so nothing was copied: "
                + "a copy goes into a new, empty database only. Create one (createdb) or drop this one's tables first"
        case .sendRunning(let day, let owner, let until):
            "a send of \(day)'s digest is running (\(owner), its lease runs until \(until) UTC); "
                + "copy the installation once it has finished, so that its last deliveries come along"
        case .schemaMismatch(let detail):
            "the PostgreSQL schema does not match the SQLite one: \(detail). Nothing was copied; "
                + "this is a bug of this version of paperpost, please report it"
        case .countMismatch(let table, let source, let copied):
            "'\(table)' has \(source) rows in the SQLite database but \(copied) after the copy; the copy was rolled back"
        case .query(let location, let message):
            "PostgreSQL at \(location): \(message)"
        }
    }
}
