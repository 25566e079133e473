import Foundation
import PaperPostCore

extension Listing {
    /// The columns of `subscribers list`; scripts read these keys.
    init(subscribers: [Subscriber]) {
        self.init(columns: [
            "id", "email", "name", "language", "status", "categories", "bounce_count", "bounce_score",
            "created_at", "confirmed_at", "unsubscribed_at",
        ])
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

/// The interest lists given on the command line, validated (each `;`-separated; "" clears).
func interestChanges(interests: String?, muted: String?, authors: String?) throws(InputError) -> [ReaderInterests.Kind: [String]] {
    var changes: [ReaderInterests.Kind: [String]] = [:]
    for (kind, text) in [(ReaderInterests.Kind.interest, interests), (.muted, muted), (.author, authors)] {
        guard let text else { continue }
        changes[kind] = try ReaderInterests.none.replacing(kind, with: ReaderInterests.parseList(text))[kind]
    }
    return changes
}
