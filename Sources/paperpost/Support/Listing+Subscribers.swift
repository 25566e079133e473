import ArgumentParser
import Foundation
import PaperPostCore

extension Listing {
    /// The columns of `subscribers list`; scripts read these keys.
    static let subscriberColumns = [
        "id", "email", "name", "language", "status", "categories", "bounce_count", "bounce_score",
        "created_at", "confirmed_at", "unsubscribed_at",
    ]

    init(subscribers: [Subscriber]) {
        self.init(columns: Self.subscriberColumns)
        for subscriber in subscribers {
            append([
                .number(Int(subscriber.id)), .text(subscriber.email), .text(subscriber.name),
                .text(subscriber.language.rawValue), .text(subscriber.status.rawValue), .list(subscriber.categories),
                .number(subscriber.bounceCount), .decimal(subscriber.bounceScore), .text(subscriber.createdAt.timestamp),
                .text(subscriber.confirmedAt?.timestamp), .text(subscriber.unsubscribedAt?.timestamp),
            ])
        }
    }
}

extension Date {
    /// ISO 8601 in UTC, to the second: what every listing prints.
    var timestamp: String {
        formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
    }
}

/// Parses the category lists the commands take (`cs.AI,cs.LG`, or repeated flags).
func categoryList(_ values: [String]) throws -> [String] {
    var codes: [String] = []
    for value in values {
        for code in try ArxivCategory.parseList(value) where !codes.contains(code) {
            codes.append(code)
        }
    }
    return codes
}

/// A reader's schedule and interests, as `subscribers add` and `update` take them. Each list is
/// `;`-separated and replaces the old one; `""` clears it.
struct TasteOptions: ParsableArguments {
    @Option(help: "daily, or weekly:mon … weekly:fri (the best of the week's papers on that day).")
    var schedule: String?

    @Option(help: "Interest phrases, ';'-separated: \"RLHF; retrieval-augmented generation\".")
    var interests: String?

    @Option(help: "Muted phrases, ';'-separated (papers that mention one are left out).")
    var muted: String?

    @Option(help: "Followed authors, ';'-separated: \"Yoshua Bengio; Fei-Fei Li\".")
    var authors: String?

    func parsedSchedule() throws(InputError) -> Schedule? {
        try schedule.map { text throws(InputError) in try Schedule(parsing: text) }
    }

    /// The lists given, validated.
    func interestChanges() throws(InputError) -> [ReaderInterests.Kind: [String]] {
        var changes: [ReaderInterests.Kind: [String]] = [:]
        for (kind, text) in [(ReaderInterests.Kind.interest, interests), (.muted, muted), (.author, authors)] {
            guard let text else { continue }
            changes[kind] = try ReaderInterests.parse(text, as: kind)
        }
        return changes
    }
}
