import Foundation
import Hummingbird
import MultipartKit

/// The body of an RFC 8058 one-click unsubscribe POST: the single field
/// `List-Unsubscribe=One-Click`. RFC 8058 lets mail providers send it URL-encoded or as
/// `multipart/form-data`, and some add a trailing line break; every one of these must
/// unsubscribe, since the provider will not try again.
struct OneClickForm: Decodable {
    var listUnsubscribe: String?

    enum CodingKeys: String, CodingKey {
        case listUnsubscribe = "List-Unsubscribe"
    }

    /// Whether `body`, sent with `contentType`, carries `List-Unsubscribe=One-Click`. A body
    /// that cannot be read (a multipart body without its boundary, a broken encoding) does not.
    static func isPresent(in body: ByteBuffer, contentType: String?) -> Bool {
        let form: OneClickForm?
        switch Encoding(contentType) {
        case .urlEncoded:
            let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
            form = try? URLEncodedFormDecoder().decode(OneClickForm.self, from: text)
        case .multipart(let boundary):
            form = try? FormDataDecoder().decode(OneClickForm.self, from: body, boundary: boundary)
        case .unreadable:
            form = nil
        }
        return form?.listUnsubscribe?.trimmingCharacters(in: .whitespacesAndNewlines) == "One-Click"
    }

    /// How the body is encoded, as its `Content-Type` says. Anything but multipart is read as
    /// URL-encoded, as before, since that is what RFC 8058 shows.
    enum Encoding: Equatable {
        case urlEncoded
        case multipart(boundary: String)
        /// Multipart without a usable boundary: missing, empty, or longer than the 70
        /// characters RFC 2046 allows (MultipartKit's parser must never see an empty one).
        case unreadable

        /// Hummingbird's `MediaType` keeps only one parameter, and a provider may send
        /// `charset` beside `boundary`, so the parameters are read here.
        init(_ contentType: String?) {
            let parts = (contentType ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first?.lowercased() == "multipart/form-data" else {
                self = .urlEncoded
                return
            }
            self = .unreadable
            for parameter in parts.dropFirst() {
                guard let equals = parameter.firstIndex(of: "="),
                    parameter[..<equals].trimmingCharacters(in: .whitespaces).lowercased() == "boundary"
                else { continue }
                var value = parameter[parameter.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                    value = String(value.dropFirst().dropLast())
                }
                if (1...70).contains(value.count) { self = .multipart(boundary: value) }
                return
            }
        }
    }
}
