import PaperPostCore

/// Where a recipient's own text goes in an otherwise shared body: `\u{E000}name\u{E001}`,
/// made of private-use characters that never occur in real text (and are stripped from
/// untrusted text by ``Swift/String/markdownEscaped``).
enum SlotMarker {
    static let open: Unicode.Scalar = "\u{E000}"
    static let close: Unicode.Scalar = "\u{E001}"

    static func isMarker(_ scalar: Unicode.Scalar) -> Bool {
        scalar == open || scalar == close
    }

    static func marker(_ slot: Slot) -> String {
        "\(open)\(slot.name)\(close)"
    }
}

/// The parts of a message that differ between recipients.
public enum Slot: Sendable, Hashable {
    case greeting
    case unsubscribeURL
    case preferencesURL
    /// The link to a reader's own edition on the web, when their interests or votes rank it.
    case editionURL
    /// The signed "more / less like this" link under a paper.
    case feedback(paper: String, vote: Vote)
    /// The line saying why a paper moved in the reader's order ("matches your interest: …").
    case why(paper: String)
    /// The hidden line mail programs show under the subject: the reader's first two papers.
    case preheader
    /// Not a reader's text: where ``EditionPieces`` cuts a rendered edition into blocks, before
    /// each paper and after each list of them.
    case cut
    case cutEnd

    var name: String {
        switch self {
        case .greeting: "greeting"
        case .unsubscribeURL: "unsubscribe_url"
        case .preferencesURL: "preferences_url"
        case .editionURL: "edition_url"
        case .feedback(let paper, let vote): "feedback_\(vote.name)_\(paper)"
        case .why(let paper): "why_\(paper)"
        case .preheader: "preheader"
        case .cut: "cut"
        case .cutEnd: "cut_end"
        }
    }

    init?(name: String) {
        switch name {
        case "greeting": self = .greeting
        case "unsubscribe_url": self = .unsubscribeURL
        case "preferences_url": self = .preferencesURL
        case "edition_url": self = .editionURL
        case "preheader": self = .preheader
        case "cut": self = .cut
        case "cut_end": self = .cutEnd
        case _ where name.hasPrefix("why_"): self = .why(paper: String(name.dropFirst(4)))
        default:
            for vote in Vote.allCases where name.hasPrefix("feedback_\(vote.name)_") {
                self = .feedback(paper: String(name.dropFirst("feedback_\(vote.name)_".count)), vote: vote)
                return
            }
            return nil
        }
    }

    /// Where the Markdown puts a feedback link: an address that survives cmark as it is (a
    /// marker of private-use characters would be percent-encoded in the `href`), swapped for
    /// the slot's marker once the part is rendered. Untrusted text cannot spell it: it is made
    /// link-inert before rendering.
    static func placeholderURL(paper: String, vote: Vote) -> String {
        placeholder(.feedback(paper: paper, vote: vote))
    }

    static func placeholder(_ slot: Slot) -> String {
        placeholderPrefix + slot.name
    }

    static let placeholderPrefix = "https://paperpost-slot.invalid/"
}
