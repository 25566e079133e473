import Crypto
import Foundation
import PaperPostCore
import Testing

@Suite("Link tokens")
struct LinkTokenTests {
    let serverSecret = SymmetricKey(data: Data("a server secret of at least 32 bytes".utf8))

    func token(id: Int64 = 5, expires: Date? = nil) -> String {
        LinkToken(purpose: .unsubscribe, subscriberID: id, expires: expires).signed(serverSecret: serverSecret, subscriberSecret: "reader")
    }

    @Test("a signed token verifies and says whom it is for")
    func verifies() throws {
        let claims = try LinkToken.verify(token(), purpose: .unsubscribe, serverSecret: serverSecret, subscriberSecret: "reader")
        #expect(claims.subscriberID == 5 && claims.expires == 0)
    }

    @Test("a feedback token signs its paper and vote: another paper, another vote, or no subject does not verify")
    func feedbackSubject() throws {
        let subject = Vote.subject(paper: "2602.17547", .up)
        let token = LinkToken(purpose: .feedback, subscriberID: 5, expires: Date().addingTimeInterval(86_400), subject: subject)
            .signed(serverSecret: serverSecret, subscriberSecret: "reader")
        let claims = try LinkToken.verify(token, purpose: .feedback, serverSecret: serverSecret, subscriberSecret: "reader")
        #expect(claims.subject == subject)
        #expect(Vote.parse(subject: claims.subject ?? "")?.paper == "2602.17547")
        #expect(Vote.parse(subject: claims.subject ?? "")?.vote == .up)
        var parts = token.split(separator: ".").map(String.init)
        #expect(parts.count == 5)
        for forged in [Vote.subject(paper: "2602.17547", .down), Vote.subject(paper: "2602.99999", .up)] {
            parts[3] = Data(forged.utf8).base64URLEncoded
            #expect(throws: LinkToken.Rejection.badSignature) {
                try LinkToken.verify(parts.joined(separator: "."), purpose: .feedback, serverSecret: serverSecret, subscriberSecret: "reader")
            }
        }
        let withoutSubject = [parts[0], parts[1], parts[2], parts[4]].joined(separator: ".")
        #expect(throws: LinkToken.Rejection.malformed) {
            try LinkToken.verify(withoutSubject, purpose: .feedback, serverSecret: serverSecret, subscriberSecret: "reader")
        }
        #expect(throws: LinkToken.Rejection.badSignature, "another reader's secret") {
            try LinkToken.verify(token, purpose: .feedback, serverSecret: serverSecret, subscriberSecret: "someone else")
        }
        #expect(Vote.parse(subject: "2602.17547 sideways") == nil)
    }

    @Test("the subject signer, which reuses one HMAC prefix per reader, gives exactly the tokens signed one by one")
    func subjectSigner() throws {
        let expires = Date(timeIntervalSince1970: 1_787_212_800)
        let signer = LinkToken.SubjectSigner(purpose: .feedback, subscriberID: 42, expires: expires, serverSecret: serverSecret, subscriberSecret: "reader")
        for subject in ["2602.17547 up", "2602.17547 down", "cs/0112017 up", ""] {
            let alone = LinkToken(purpose: .feedback, subscriberID: 42, expires: expires, subject: subject)
                .signed(serverSecret: serverSecret, subscriberSecret: "reader")
            #expect(signer.signed(subject: subject) == alone, "\(subject)")
        }
        #expect(Array<UInt8>([]).base64URLEncoded == "" && Array("f".utf8).base64URLEncoded == "Zg" && Array("fo".utf8).base64URLEncoded == "Zm8")
        #expect(Data("foo?>".utf8).base64URLEncoded == "Zm9vPz4")
    }

    /// `Int64("05")` is 5 and the signature covers the number, not its text: without the check
    /// each of these would verify as the same link.
    @Test("numbers are read only in the spelling the token was signed with", arguments: [
        ("u.", "05", ".0."), ("u.", "+5", ".0."), ("u.", " 5", ".0."), ("u.", "5 ", ".0."), ("u.", "٥", ".0."),
        ("u.5.", "00", "."), ("u.5.", "+0", "."), ("u.5.", "-0", "."), ("u.5.", "", "."),
    ])
    func canonicalNumbers(prefix: String, number: String, suffix: String) throws {
        let signature = try #require(token().split(separator: ".").last)
        let respelled = prefix + number + suffix + signature
        #expect(LinkToken(unverified: respelled) == nil)
        #expect(throws: LinkToken.Rejection.malformed) {
            try LinkToken.verify(respelled, purpose: .unsubscribe, serverSecret: serverSecret, subscriberSecret: "reader")
        }
    }

    @Test("zero, and the largest id and expiry, still read back")
    func edges() throws {
        let large = LinkToken(unverified: token(id: Int64.max, expires: Date(timeIntervalSince1970: 4_102_444_800)))
        #expect(large?.subscriberID == Int64.max && large?.expires == 4_102_444_800)
        #expect(LinkToken(unverified: "u.0.0.AAAA")?.subscriberID == 0)
        #expect(LinkToken(unverified: "u.9223372036854775808.0.AAAA") == nil, "one more than Int64.max")
    }
}

@Suite("Schedules")
struct ScheduleTests {
    @Test("daily, weekly (Monday), weekly:fri and weekly:Friday parse; weekends and other words are refused naming the field",
          arguments: [("daily", "daily"), ("WEEKLY", "weekly:mon"), ("weekly:fri", "weekly:fri"), ("weekly:Thursday", "weekly:thu")])
    func parses(text: String, canonical: String) throws {
        #expect(try Schedule(parsing: text).description == canonical)
    }

    @Test("refused", arguments: ["weekly:sat", "weekly:sun", "monthly", "weekly:funday", ""])
    func refused(text: String) {
        #expect { try Schedule(parsing: text) } throws: { error in
            (error as? InputError)?.description.hasPrefix("invalid schedule") == true
        }
    }

    @Test("a weekly schedule is due only on its weekday")
    func due() {
        let friday = Day(year: 2026, month: 2, day: 20)!
        #expect(Schedule.weekly(weekday: 6).isDue(on: friday))
        #expect(!Schedule.weekly(weekday: 6).isDue(on: friday.adding(days: -2)))
        #expect(Schedule.daily.isDue(on: friday.adding(days: -2)))
        #expect(friday.adding(days: -6).description == "2026-02-14")
        #expect(friday.adding(days: 10).description == "2026-03-02")
    }
}
