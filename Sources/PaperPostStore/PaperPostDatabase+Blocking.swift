import GRDB

extension PaperPostDatabase {
    /// ``write(_:)`` on the calling thread, for a writer that owns a thread of its own (the
    /// send's delivery log): no hop to the cooperative pool and back between transactions,
    /// which on a busy machine costs more than the transaction. Never call it from a task.
    func writeBlocking<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.write(body)
        } catch let error as DatabaseError {
            throw StoreError.database(error.description)
        }
    }
}
