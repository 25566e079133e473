import PaperPostCore
import Testing

@Suite("Display names")
struct DisplayNameTests {
    @Test("names are trimmed and their whitespace folded, plain ASCII or not", arguments: [
        ("Ada Lovelace", "Ada Lovelace"),
        ("O'Brien-Smith, Jr.", "O'Brien-Smith, Jr."),
        (" Ada Lovelace", "Ada Lovelace"),
        ("Ada Lovelace ", "Ada Lovelace"),
        ("Ada  Lovelace", "Ada Lovelace"),
        ("Ada\tLovelace", "Ada Lovelace"),
        ("Ada\r\n  Lovelace", "Ada Lovelace"),
        ("Ada\u{A0}Lovelace", "Ada Lovelace"),
        ("王芳", "王芳"),
        ("  Zoë  Brontë ", "Zoë Brontë"),
    ])
    func folded(input: String, name: String) throws {
        #expect(try Subscriber.validName(input) == name)
    }

    @Test("an empty or blank name is no name")
    func blank() throws {
        #expect(try Subscriber.validName("") == nil)
        #expect(try Subscriber.validName(" \t ") == nil)
    }

    @Test("a name over 100 characters, with a control character or a bidirectional override is refused", arguments: [
        (String(repeating: "a", count: 101), "longer than 100 characters"),
        (String(repeating: "李", count: 101), "longer than 100 characters"),
        ("Ada\u{7F}", "control character"),
        ("Ada\u{1B}[31m", "control character"),
        ("Ada \u{202E}ecalevol", "bidirectional override"),
    ])
    func refused(input: String, reason: String) {
        #expect {
            try Subscriber.validName(input)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("a name of exactly 100 characters is kept")
    func longest() throws {
        let name = String(repeating: "a", count: 50) + " " + String(repeating: "b", count: 49)
        #expect(try Subscriber.validName(name) == name)
    }
}
