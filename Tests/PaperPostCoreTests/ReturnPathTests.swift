import Crypto
import Foundation
import PaperPostCore
import Testing

@Suite("Per-message return paths (VERP)")
struct ReturnPathTests {
    static let key = SymmetricKey(data: Data("server-secret-for-tests-0123456789abcdef".utf8))
    static let base = try! EmailAddress("bounces@example.org")
    static let path = ReturnPath(day: Day(year: 2026, month: 2, day: 20)!, subscriberID: 42)

    @Test("an address names its day and subscriber, reads back in any case and in angle brackets, and fits a local part")
    func roundTrip() throws {
        let address = Self.path.address(base: Self.base, key: Self.key)
        #expect(address.hasPrefix("bounces+20260220-42-"))
        #expect(address.hasSuffix("@example.org"))
        #expect(try EmailAddress(address).localPart.count <= 64)
        #expect(ReturnPath.parse(address, base: Self.base, key: Self.key) == Self.path)
        #expect(ReturnPath.parse("<\(address.uppercased())>", base: Self.base, key: Self.key) == Self.path)
        let large = ReturnPath(day: Day(year: 2099, month: 12, day: 31)!, subscriberID: Int64.max)
        #expect(ReturnPath.parse(large.address(base: Self.base, key: Self.key), base: Self.base, key: Self.key) == large)
    }

    @Test("a changed day, subscriber or MAC, another secret, another base, or no token at all is not believed")
    func forgeries() throws {
        let address = Self.path.address(base: Self.base, key: Self.key)
        let mac = String(address.split(separator: "-").last!.prefix(12))
        let flipped = String(mac.dropLast()) + (mac.last == "a" ? "b" : "a")
        let forged = [
            address.replacingOccurrences(of: "20260220", with: "20260221"),
            address.replacingOccurrences(of: "-42-", with: "-43-"),
            address.replacingOccurrences(of: "-42-", with: "-042-"),
            address.replacingOccurrences(of: mac, with: flipped),
            address.replacingOccurrences(of: mac, with: String(mac.dropLast())),
            address.replacingOccurrences(of: "@example.org", with: "@example.net"),
            address.replacingOccurrences(of: "bounces+", with: "other+"),
            "bounces@example.org", "bounces+@example.org", "bounces+20260230-42-\(mac)@example.org", "bounces+x-y-z@example.org",
        ]
        for address in forged {
            #expect(ReturnPath.parse(address, base: Self.base, key: Self.key) == nil, "\(address)")
        }
        let otherKey = SymmetricKey(data: Data("another-server-secret-0123456789abcdef".utf8))
        #expect(ReturnPath.parse(address, base: Self.base, key: otherKey) == nil)
    }
}
