import PaperPostCore
import Testing

@Suite("Email addresses")
struct EmailAddressTests {
    @Test("plain addresses are accepted and compared case-insensitively", arguments: [
        ("Ada.Lovelace@Example.COM", "ada.lovelace@example.com"),
        ("  li.wei+papers@mail.example.cn ", "li.wei+papers@mail.example.cn"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("Z_9@X-1.Example.IO", "z_9@x-1.example.io"),
        ("\tq@example.org\r\n", "q@example.org"),
    ])
    func accepted(input: String, key: String) throws {
        let address = try EmailAddress(input)
        #expect(address.key == key)
        #expect(address.value == input.trimmingSpaces())
    }

    @Test("the local part can be compared case-sensitively when configured")
    func caseSensitiveLocalPart() throws {
        let address = try EmailAddress("Bob@Example.COM", caseSensitiveLocalPart: true)
        #expect(address.key == "Bob@example.com")
    }

    @Test("bad addresses are refused with a reason that names the address", arguments: [
        ("", "empty"),
        ("no-at-sign.example.com", "no '@'"),
        ("a@b@example.com", "more than one '@'"),
        ("a b@example.com", "space"),
        ("a@example.com\r\nBcc: victim@example.org", "line break"),
        ("a,b@example.com", "','"),
        ("<a@example.com>", "'<'"),
        ("a@localhost", "no dot"),
        ("a@example..com", "empty label"),
        ("a@-example.com", "starts or ends with '-'"),
        (".a@example.com", "misplaced '.'"),
        ("李@example.com", "non-ASCII"),
        ("a..b@example.com", "misplaced '.'"),
        ("a.@example.com", "misplaced '.'"),
        ("@example.com", "nothing before the '@'"),
        ("a@", "no domain"),
        ("a@example-.com", "starts or ends with '-'"),
        ("a@example.123", "does not end in a name"),
        ("a@exa_mple.com", "'_' is not allowed in the domain"),
        (String(repeating: "a", count: 65) + "@example.com", "longer than 64"),
    ])
    func refused(input: String, reason: String) {
        #expect {
            try EmailAddress(input)
        } throws: { error in
            let message = "\(error)"
            return message.contains(reason) && message.contains("'\(input)'")
        }
    }
}
