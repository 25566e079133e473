import Foundation
import PaperPostCore

/// The columns of a `subscriber` row that a ``SubscriberChange`` may touch.
package struct SubscriberFields: Sendable, Hashable {
    package var name: String?
    package var language: String
    package var status: String
    package var schedule: String
    package var confirmedAt: Date?
    package var unsubscribedAt: Date?

    package init(name: String?, language: String, status: String, schedule: String, confirmedAt: Date?, unsubscribedAt: Date?) {
        self.name = name
        self.language = language
        self.status = status
        self.schedule = schedule
        self.confirmedAt = confirmedAt
        self.unsubscribedAt = unsubscribedAt
    }
}

/// What a change does to one subscriber, worked out before anything is written, so that the
/// SQLite and PostgreSQL stores change the same fields and log the same events in the same
/// order.
package struct SubscriberEdit: Sendable {
    package var fields: SubscriberFields
    /// The new categories, when they changed.
    package var categories: [String]?
    /// The interest lists that changed, each replaced whole.
    package var interests: [(kind: ReaderInterests.Kind, entries: [String])] = []
    /// One event per kind of change, in the order they are logged.
    package var events: [(kind: SubscriberEvent.Kind, detail: String?)] = []

    package var changed: Bool { !events.isEmpty }

    /// - Parameters:
    ///   - categories: the stored categories; needed (not `nil`) when the change
    ///     ``SubscriberChange/touchesCategories``.
    ///   - interests: the stored interests; needed when the change names any.
    /// - Throws: ``InputError`` when the change would leave the subscriber without categories,
    ///   or an interest list is invalid.
    package init(_ change: SubscriberChange, on fields: SubscriberFields, categories old: [String]?, interests oldInterests: ReaderInterests?, now: Date) throws {
        self.fields = fields
        if change.touchesCategories, let old {
            var new = change.categories ?? old
            for code in change.addCategories where !new.contains(code) {
                new.append(code)
            }
            new.removeAll { change.removeCategories.contains($0) }
            if new != old {
                guard !new.isEmpty else {
                    throw InputError.invalidValue(field: "categories", value: "", reason: "a subscriber needs at least one category")
                }
                categories = new
                events.append((.categoriesChanged, "\(old.joined(separator: " ")) → \(new.joined(separator: " "))"))
            }
        }
        if !change.interests.isEmpty, let oldInterests {
            let new = try oldInterests.applying(change.interests)
            for kind in ReaderInterests.Kind.allCases where new[kind] != oldInterests[kind] {
                interests.append((kind, new[kind]))
                events.append((.updated, "\(kind.field): \(new[kind].count)"))
            }
        }
        if let schedule = change.schedule, schedule.description != fields.schedule {
            events.append((.updated, "schedule \(fields.schedule) → \(schedule.description)"))
            self.fields.schedule = schedule.description
        }
        if let name = change.name, (name.isEmpty ? nil : name) != fields.name {
            self.fields.name = name.isEmpty ? nil : name
            events.append((.updated, "name"))
        }
        if let language = change.language, language.rawValue != fields.language {
            events.append((.updated, "language \(fields.language) → \(language.rawValue)"))
            self.fields.language = language.rawValue
        }
        if let status = change.status, status.rawValue != fields.status {
            let old = SubscriberStatus(rawValue: fields.status) ?? .paused
            let kind: SubscriberEvent.Kind =
                switch (old, status) {
                case (_, .unsubscribed): .unsubscribed
                case (_, .bounced): .bounced
                case (.pending, .active): .confirmed
                case (let from, .active) where from.isSuppressed: .resubscribed
                case (let from, .pending) where from.isSuppressed: .resubscribed
                default: .statusChanged
                }
            events.append((kind, "\(old.rawValue) → \(status.rawValue)"))
            self.fields.status = status.rawValue
            switch status {
            case .active: self.fields.confirmedAt = fields.confirmedAt ?? now
            case .unsubscribed: self.fields.unsubscribedAt = now
            default: break
            }
        }
    }
}

extension SubscriberChange {
    /// Whether the change needs the stored categories to be worked out.
    package var touchesCategories: Bool {
        categories != nil || !addCategories.isEmpty || !removeCategories.isEmpty
    }
}

extension NewSubscriber {
    /// The first event of a new subscriber's trail. `StagedImport` writes the same text in SQL.
    package var addedDetail: String {
        "status \(status.rawValue); categories \(categories.joined(separator: " "))"
    }
}

/// The keys and secrets of a `subscriber` row, made the same way by both stores.
package enum SubscriberKeys {
    /// The key a forgotten address is kept under.
    package static func forgotten(_ key: String) -> String { SubscriberRecord.forgottenKey(for: key) }
    /// Link-signing secrets for `count` new subscribers, read at once (see `String.randomHex(count:bytes:)`).
    package static func newSecrets(_ count: Int) -> [String] { String.randomHex(count: count, bytes: SubscriberRecord.secretBytes) }
}
