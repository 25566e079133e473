import PaperPostCore
import Testing

@Suite("Hex encoding")
struct HexEncodingTests {
    @Test("two lower-case digits a byte, in order")
    func encoding() {
        #expect([UInt8]().hexEncoded == "")
        #expect([0x00, 0x0f, 0xab, 0xff].hexEncoded == "000fabff")
    }

    @Test("random hex has two digits per byte asked for, also for counts that are not a multiple of eight")
    func random() {
        for bytes in [1, 12, 32] {
            let text = String.randomHex(bytes: bytes)
            #expect(text.count == bytes * 2)
            #expect(text.allSatisfy { "0123456789abcdef".contains($0) })
        }
        #expect(String.randomHex(bytes: 32) != String.randomHex(bytes: 32))
    }
}
