/// An address with an optional display name, as configured (`PaperPost Digest <digest@example.org>`).
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    public var displayName: String?
    public var address: EmailAddress

    public init(displayName: String?, address: EmailAddress) {
        self.displayName = displayName
        self.address = address
    }

    /// Parses `Name <address>` or a bare address.
    ///
    /// - Throws: ``InputError`` naming the text.
    public init(parsing text: String) throws(InputError) {
        let trimmed = text.trimmingSpaces()
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            var name = trimmed[..<open].trimmingSpaces()
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                name = String(name.dropFirst().dropLast())
            }
            self.displayName = try Subscriber.validName(name)
            self.address = try EmailAddress(String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]))
        } else {
            self.displayName = nil
            self.address = try EmailAddress(trimmed)
        }
    }

    public var description: String {
        displayName.map { "\($0) <\(address)>" } ?? address.value
    }
}
