import Crypto
import Foundation
@testable import Mail
import PaperPostCore
import PaperPostStore
import TestSupport
import Testing

@Suite("DKIM signatures, checked by dkimpy")
struct DKIMTests {
    /// A world whose sends are signed with fresh RSA and Ed25519 keys; also the records to publish.
    func withSigningWorld(_ body: (MailWorld, [(name: String, record: String)]) async throws -> Void) async throws {
        try await MailWorld.with { world in
            var world = world
            let keys = world.directory.appendingPathComponent("dkim").path
            let written = try DKIMKeyGenerator.generate(selector: "2026a", directory: keys, ed25519: true)
            world.settings.mail.dkim = DKIMSettings(keyFile: written[0].path, ed25519KeyFile: written[1].path, selector: "2026a")
            // A long Chinese name and subject-worthy text, so that headers are encoded and folded.
            try await world.subscribers.add(
                NewSubscriber(
                    email: try EmailAddress("li.wei@example.com"), name: "李伟（上海交通大学人工智能研究院，自然语言处理与多智能体系统方向博士研究生）",
                    categories: ["cs.AI", "cs.LG"], language: .zh, status: .active),
                source: .cli)
            let signer = try DKIMSigner(settings: try #require(world.settings.mail.dkim), from: world.settings.mail.from.address)
            try await body(world, signer.dnsRecords)
        }
    }

    func outbox(_ world: MailWorld) throws -> [[UInt8]] {
        let directory = URL(fileURLWithPath: world.settings.delivery.outboxDirectory).appendingPathComponent(MailWorld.day.description)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".eml") }.sorted()
            .map { Array(try Data(contentsOf: directory.appendingPathComponent($0))) }
    }

    @Test("every message sent carries an RSA and an Ed25519 signature that dkimpy verifies, folded Chinese headers included")
    func signedSend() async throws {
        try await withSigningWorld { world, records in
            #expect(records.map(\.name) == ["2026a._domainkey.example.org", "2026a-ed25519._domainkey.example.org"])
            let report = try await world.send()
            #expect(report.progress.sent == 4)
            let messages = try outbox(world)
            #expect(messages.count == 4)
            for message in messages {
                let verdict = try DKIMVerdict.check(message, records: records)
                #expect(verdict.signatures.map(\.algorithm) == ["rsa-sha256", "ed25519-sha256"])
                #expect(verdict.signatures.map(\.selector) == ["2026a", "2026a-ed25519"])
                #expect(verdict.signatures.allSatisfy { $0.valid }, "\(String(decoding: message.prefix(1200), as: UTF8.self))")
            }
            let chinese = try #require(messages.first { String(decoding: $0, as: UTF8.self).contains("li.wei@example.com") })
            let text = String(decoding: chinese, as: UTF8.self)
            #expect(text.contains("=?UTF-8?"))
            // The one-click header is covered, and From is signed twice so none can be added.
            let header = try #require(text.components(separatedBy: "\r\n\r\n").first)
            let unfolded = header.replacingOccurrences(of: "\r\n ", with: " ")
            #expect(unfolded.contains("h=from:from:to:subject:date:message-id:mime-version:content-type:list-id:list-unsubscribe:list-unsubscribe-post;"))
            #expect(unfolded.contains("d=example.org;"))
        }
    }

    @Test("signatures survive the SMTP path: what a real server stored verifies")
    func overSMTP() async throws {
        let server = try await LocalSMTPServer()
        defer { server.stop() }
        try await withSigningWorld { world, records in
            var settings = world.settings.delivery
            settings.smtpURL = server.url
            settings.tls = .off
            let report = try await world.send(transport: try SMTPTransport(settings: settings, heloName: "digest.example.org"))
            #expect(report.progress.sent == 4)
            let received = try await server.messages()
            #expect(received.count == 4)
            for message in received {
                let verdict = try DKIMVerdict.check(Array(message.data), records: records)
                #expect(verdict.signatures.count == 2)
                #expect(verdict.signatures.allSatisfy { $0.valid })
            }
        }
    }

    @Test("a message changed after signing fails verification: a body byte, a subject, an added From")
    func tampering() async throws {
        try await withSigningWorld { world, records in
            _ = try await world.send()
            let message = try #require(try outbox(world).first)
            let text = String(decoding: message, as: UTF8.self)
            let body = text.range(of: "\r\n\r\n")!.upperBound
            var changedBody = text
            let index = changedBody.index(body, offsetBy: 40)
            changedBody.replaceSubrange(index...index, with: changedBody[index] == "x" ? "y" : "x")
            let changedSubject = text.replacingOccurrences(of: "\r\nSubject: ", with: "\r\nSubject: Re: ")
            let addedFrom = text.replacingOccurrences(of: "\r\nTo: ", with: "\r\nFrom: attacker@example.net\r\nTo: ")
            for changed in [changedBody, changedSubject, addedFrom] {
                #expect(changed != text)
                let verdict = try DKIMVerdict.check(Array(changed.utf8), records: records)
                #expect(verdict.signatures.count == 2)
                #expect(verdict.signatures.allSatisfy { !$0.valid })
            }
        }
    }

    @Test("relaxed canonicalisation: whitespace runs, line-end spaces and trailing empty lines do not change the body hash")
    func relaxedBody() {
        let plain = Array("Hello world\r\nsecond line\r\n".utf8)
        let spaced = Array("Hello  \t world  \r\nsecond line\t\r\n\r\n\r\n".utf8)
        #expect(DKIMSigner.relaxedBodyHash(plain[...]) == DKIMSigner.relaxedBodyHash(spaced[...]))
        #expect(DKIMSigner.relaxedBodyHash(Array("a\r\n".utf8)[...]) != DKIMSigner.relaxedBodyHash(Array("a\r\n\r\nb\r\n".utf8)[...]))
        #expect(DKIMSigner.relaxedHeader(Array("Subject:  Hello \r\n\t World  ".utf8)[...]) == Array("subject:Hello World\r\n".utf8))
    }

    @Test("the streamed body hash equals the hash of the relaxed body built a byte at a time, for bodies canonicalising changes and bodies it leaves alone")
    func streamedBodyHash() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "bc", " ", "  ", "\t", "\r\n", "\r\n\r\n", "\n", "\r", "=20", "中"]
        var bodies = ["", "\r\n", "\r\n\r\n", " \r\n\t\r\n", "x", "x\r\n", "x\r\n\r\n\r\n", " lead\r\n", "trail \r\n", "a  b\r\n", "t\tb\r\n", "x \r", "x \r\r\n"]
        for _ in 0..<2_000 {
            bodies.append((0..<Int.random(in: 0..<12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined())
        }
        var unchanged = 0
        for body in bodies {
            let bytes = Array(body.utf8)[...]
            let canonical = Self.relaxedBody(bytes)
            if canonical[...] == bytes { unchanged += 1 }
            #expect(DKIMSigner.relaxedBodyHash(bytes) == SHA256.hash(data: canonical), "\(body.debugDescription)")
        }
        #expect(unchanged > 100)
        #expect(bodies.count - unchanged > 1_000)
    }

    /// RFC 6376 3.4.4 a byte at a time, as plainly as it reads: the reference the signer's
    /// streamed hash is checked against.
    static func relaxedBody(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        var end = 0
        var lineStart = 0
        var pendingSpace = false
        var index = body.startIndex
        while index < body.endIndex {
            let byte = body[index]
            if byte == 13, index + 1 < body.endIndex, body[index + 1] == 10 {
                let hadText = output.count > lineStart
                output += [13, 10]
                if hadText { end = output.count }
                lineStart = output.count
                pendingSpace = false
                index += 2
                continue
            }
            if byte == 32 || byte == 9 {
                pendingSpace = true
            } else {
                if pendingSpace { output.append(32) }
                pendingSpace = false
                output.append(byte)
            }
            index += 1
        }
        if output.count > lineStart {
            output += [13, 10]
            end = output.count
        }
        return Array(output[0..<end])
    }

    @Test("an unreadable or wrong key file is refused naming the variable and the file, before anything is sent")
    func badKeys() async throws {
        try await MailWorld.with { world in
            let garbage = world.directory.appendingPathComponent("garbage.pem")
            try Data("not a key\n".utf8).write(to: garbage)
            let missing = world.directory.appendingPathComponent("missing.pem").path
            for (settings, words) in [
                (DKIMSettings(keyFile: missing, selector: "s"), ["PAPERPOST_DKIM_KEY_FILE", missing, "cannot be read"]),
                (DKIMSettings(keyFile: garbage.path, selector: "s"), ["PAPERPOST_DKIM_KEY_FILE", garbage.path, "not an RSA private key"]),
                (DKIMSettings(ed25519KeyFile: garbage.path, selector: "s"), ["PAPERPOST_DKIM_ED25519_KEY_FILE", garbage.path, "not an Ed25519 key"]),
            ] {
                var world = world
                world.settings.mail.dkim = settings
                do {
                    _ = try await world.send()
                    Issue.record("a send with \(settings) succeeded")
                } catch let error as DKIMError {
                    #expect(words.allSatisfy { error.description.contains($0) }, "\(error)")
                }
                #expect(try await world.deliveries.deliveries(day: MailWorld.day).isEmpty)
            }
        }
    }

    @Test("keygen writes the keys readable by their owner only, and never overwrites one")
    func keygen() async throws {
        try await withTemporaryDirectory { directory in
            let written = try DKIMKeyGenerator.generate(selector: "k1", directory: directory.path, ed25519: true)
            #expect(written.map(\.variable) == ["PAPERPOST_DKIM_KEY_FILE", "PAPERPOST_DKIM_ED25519_KEY_FILE"])
            for key in written {
                let mode = try FileManager.default.attributesOfItem(atPath: key.path)[.posixPermissions] as? Int
                #expect(mode == 0o600)
            }
            #expect(written[0].record.hasPrefix("v=DKIM1; k=rsa; p=MIIBIjAN"))
            #expect(written[1].record.hasPrefix("v=DKIM1; k=ed25519; p="))
            let before = try Data(contentsOf: URL(fileURLWithPath: written[0].path))
            #expect(throws: DKIMError.self) { try DKIMKeyGenerator.generate(selector: "k1", directory: directory.path, ed25519: false) }
            let after = try Data(contentsOf: URL(fileURLWithPath: written[0].path))
            #expect(after == before)
            #expect(DKIMKeyGenerator.zoneStrings(written[0].record).components(separatedBy: "\" \"").count == 2)
        }
    }
}
