import Foundation
import GRDB
import PaperPostCore

/// A subscriber to be added: already validated values.
public struct NewSubscriber: Sendable, Hashable {
    public var email: EmailAddress
    public var name: String?
    public var categories: [String]
    public var language: Language
    public var status: SubscriberStatus
    public var interests: ReaderInterests
    public var schedule: Schedule

    public init(
        email: EmailAddress, name: String?, categories: [String], language: Language, status: SubscriberStatus, interests: ReaderInterests = .none,
        schedule: Schedule = .daily
    ) {
        self.schedule = schedule
        self.email = email
        self.name = name
        self.categories = categories
        self.language = language
        self.status = status
        self.interests = interests
    }
}

/// What to change about a subscriber; `nil` fields stay as they are. An empty `name` clears it.
public struct SubscriberChange: Sendable, Hashable {
    public var name: String?
    public var categories: [String]?
    public var addCategories: [String]
    public var removeCategories: [String]
    public var language: Language?
    public var status: SubscriberStatus?
    /// Lists replaced whole (validated: see ``ReaderInterests``); kinds not named stay.
    public var interests: [ReaderInterests.Kind: [String]]
    public var schedule: Schedule?

    public init(
        name: String? = nil, categories: [String]? = nil, addCategories: [String] = [],
        removeCategories: [String] = [], language: Language? = nil, status: SubscriberStatus? = nil,
        interests: [ReaderInterests.Kind: [String]] = [:], schedule: Schedule? = nil
    ) {
        self.schedule = schedule
        self.interests = interests
        self.name = name
        self.categories = categories
        self.addCategories = addCategories
        self.removeCategories = removeCategories
        self.language = language
        self.status = status
    }
}

/// Counts of subscribers by status (all of them), and by category and language (active ones:
/// those are the people the next digest goes to).
public struct SubscriberStats: Sendable {
    public var byStatus: [(SubscriberStatus, Int)]
    public var activeByCategory: [(String, Int)]
    public var activeByLanguage: [(Language, Int)]

    public init(byStatus: [(SubscriberStatus, Int)], activeByCategory: [(String, Int)], activeByLanguage: [(Language, Int)]) {
        self.byStatus = byStatus
        self.activeByCategory = activeByCategory
        self.activeByLanguage = activeByLanguage
    }
}

/// A subscriber as a signed link finds them: who they are, and the secret their links are
/// signed with.
public struct LinkIdentity: Sendable {
    public var subscriber: Subscriber
    public var secret: String

    public init(subscriber: Subscriber, secret: String) {
        self.subscriber = subscriber
        self.secret = secret
    }
}

/// Subscribers and their audit trail. Every change is one transaction that also writes the
/// event saying who made it, so the trail and the state never disagree.
public struct SubscriberStore: Sendable {
    public let database: PaperPostDatabase
    public let settings: Settings

    public init(database: PaperPostDatabase, settings: Settings) {
        self.database = database
        self.settings = settings
    }

    /// Parses an address with this installation's comparison rules.
    public func address(_ text: String) throws(InputError) -> EmailAddress {
        try settings.address(text)
    }

    /// Adds a new subscriber.
    ///
    /// - Throws: ``StoreError/alreadyExists(email:status:)`` if the address is known, whatever
    ///   its status: an unsubscribed person is never re-added by accident.
    @discardableResult
    public func add(_ new: NewSubscriber, source: SubscriberEvent.Source) async throws -> Subscriber {
        try await database.write { db in
            if let existing = try Self.record(db, for: new.email) {
                throw StoreError.alreadyExists(email: new.email.value, status: existing.status)
            }
            return try Self.insert(db, new, source: source, kind: .added)
        }
    }

    /// The subscriber with this address, including a forgotten one (whose `email` is `nil`).
    public func find(_ address: EmailAddress) async throws -> Subscriber? {
        try await database.read { db in
            guard let record = try Self.record(db, for: address) else { return nil }
            return try Self.loaded(db, record)
        }
    }

    /// Subscribers in the order they were added, optionally only those with a status or a category.
    public func list(status: SubscriberStatus? = nil, category: String? = nil) async throws -> [Subscriber] {
        var all: [Subscriber] = []
        try await forEachSubscriberPage(status: status, category: category) { all += $0 }
        return all
    }

    /// Up to `limit` subscribers after the one with id `after`, in id order.
    public func subscribers(after id: Int64, limit: Int, status: SubscriberStatus?, category: String?) async throws -> [Subscriber] {
        try await database.read { db in
            var request = SubscriberRecord.filter(Column("id") > id).order(Column("id")).limit(limit)
            if let status {
                request = request.filter(Column("status") == status.rawValue)
            }
            if let category {
                request = request.filter(
                    sql: "id IN (SELECT subscriber_id FROM subscriber_category WHERE category = ?)",
                    arguments: [category])
            }
            let records = try request.fetchAll(db)
            let ids = records.compactMap(\.id)
            let categories = try Self.categories(db, of: ids)
            let interests = try Self.interests(db, of: ids)
            return records.map { $0.subscriber(categories: categories[$0.id!] ?? [], interests: interests[$0.id!] ?? .none) }
        }
    }

    /// The audit trail of one subscriber, oldest first.
    public func events(of subscriber: Subscriber) async throws -> [SubscriberEvent] {
        try await database.read { db in
            try SubscriberEventRecord
                .filter(Column("subscriber_id") == subscriber.id)
                .order(Column("id"))
                .fetchAll(db)
                .map {
                    SubscriberEvent(
                        kind: SubscriberEvent.Kind(rawValue: $0.kind) ?? .updated,
                        source: SubscriberEvent.Source(rawValue: $0.source) ?? .cli,
                        detail: $0.detail, at: $0.createdAt)
                }
        }
    }

    /// Changes a subscriber.
    ///
    /// - Throws: ``StoreError/notFound(email:)``, or ``InputError`` when the change would
    ///   leave the subscriber without categories.
    @discardableResult
    public func update(_ address: EmailAddress, _ change: SubscriberChange, source: SubscriberEvent.Source) async throws -> Subscriber {
        try await database.write { db in
            guard var record = try Self.record(db, for: address), record.email != nil else {
                throw StoreError.notFound(email: address.value)
            }
            try Self.apply(change, to: &record, db, source: source)
            return try Self.loaded(db, record)
        }
    }

    /// Marks a subscriber unsubscribed and keeps the row, so that no later import re-adds them.
    /// Unsubscribing twice changes nothing the second time.
    ///
    /// - Returns: whether the status changed.
    @discardableResult
    public func unsubscribe(_ address: EmailAddress, source: SubscriberEvent.Source) async throws -> Bool {
        try await database.write { db in
            guard var record = try Self.record(db, for: address) else {
                throw StoreError.notFound(email: address.value)
            }
            guard record.status != SubscriberStatus.unsubscribed.rawValue else { return false }
            try Self.apply(SubscriberChange(status: .unsubscribed), to: &record, db, source: source)
            return true
        }
    }

    /// Erases what identifies a person (address, name, categories, the details of their audit
    /// trail) and keeps a SHA-256 of their address and their unsubscribed or bounced status,
    /// which is what keeps them from being mailed again.
    public func forget(_ address: EmailAddress, source: SubscriberEvent.Source) async throws {
        try await database.write { db in
            guard var record = try Self.record(db, for: address) else {
                throw StoreError.notFound(email: address.value)
            }
            if record.email == nil { return }
            if !(SubscriberStatus(rawValue: record.status)?.isSuppressed ?? false) {
                try Self.apply(SubscriberChange(status: .unsubscribed), to: &record, db, source: source)
            }
            record.email = nil
            record.name = nil
            record.emailKey = SubscriberRecord.forgottenKey(for: address.key)
            record.updatedAt = Date()
            try record.update(db)
            try db.execute(sql: "DELETE FROM subscriber_category WHERE subscriber_id = ?", arguments: [record.id])
            try db.execute(sql: "DELETE FROM subscriber_interest WHERE subscriber_id = ?", arguments: [record.id])
            try db.execute(sql: "DELETE FROM subscriber_vote WHERE subscriber_id = ?", arguments: [record.id])
            try db.execute(sql: "DELETE FROM subscriber_taste WHERE subscriber_id = ?", arguments: [record.id])
            try db.execute(sql: "UPDATE subscriber_event SET detail = NULL WHERE subscriber_id = ?", arguments: [record.id])
            try Self.log(db, record.id!, .forgotten, source, detail: nil)
        }
    }

    /// What a link's token is checked against (the subscriber's link secret) and what its page
    /// shows, in one read; `nil` when there is no such subscriber or they were forgotten.
    public func linkIdentity(id: Int64) async throws -> LinkIdentity? {
        try await database.read { db in try Self.linkIdentity(db, id: id) }
    }

    /// Unsubscribes the subscriber a link names, checking the link in the same transaction, so
    /// that the one-click POST costs one trip to the database. Idempotent.
    ///
    /// - Returns: the subscriber afterwards, or `nil` when there is none or `authorized` refused.
    public func unsubscribe(
        id: Int64, source: SubscriberEvent.Source, authorized: @escaping @Sendable (LinkIdentity) -> Bool
    ) async throws -> Subscriber? {
        try await database.write { db in
            guard var record = try SubscriberRecord.fetchOne(db, key: id), record.email != nil else { return nil }
            let categories = try Self.categories(db, of: id)
            guard authorized(LinkIdentity(subscriber: record.subscriber(categories: categories), secret: record.secret)) else { return nil }
            if record.status != SubscriberStatus.unsubscribed.rawValue {
                try Self.apply(SubscriberChange(status: .unsubscribed), to: &record, db, source: source)
            }
            return record.subscriber(categories: categories)
        }
    }

    /// Changes a subscriber named by id (a signed link names them by id).
    ///
    /// - Throws: ``StoreError/notFound(email:)``, or ``InputError`` when the change would
    ///   leave the subscriber without categories.
    @discardableResult
    public func update(id: Int64, _ change: SubscriberChange, source: SubscriberEvent.Source) async throws -> Subscriber {
        try await database.write { db in
            guard var record = try SubscriberRecord.fetchOne(db, key: id), record.email != nil else {
                throw StoreError.notFound(email: "#\(id)")
            }
            try Self.apply(change, to: &record, db, source: source)
            return try Self.loaded(db, record)
        }
    }

    /// Records a request to subscribe, as typed into the web form by anyone.
    ///
    /// Nothing about a subscriber who receives the digest (active or paused) changes: only their
    /// own signed link may do that. An address that receives nothing (new, pending,
    /// unsubscribed, bounced, forgotten) takes the form's name, categories and language, and
    /// keeps its status until its owner confirms, so an unsubscribed person stays suppressed
    /// until they click the link themselves.
    public func requestSubscription(_ new: NewSubscriber) async throws -> SubscriptionRequest {
        try await database.write { db in
            guard var record = try Self.record(db, for: new.email) else {
                var pending = new
                pending.status = .pending
                return .needsConfirmation(try Self.insert(db, pending, source: .web, kind: .added))
            }
            let status = SubscriberStatus(rawValue: record.status) ?? .paused
            if status == .active || status == .paused {
                return .alreadySubscribed(try Self.loaded(db, record))
            }
            if record.email == nil {
                record.email = new.email.value
                record.emailKey = new.email.key
                record.updatedAt = Date()
                try record.update(db)
                try Self.log(db, record.id!, .updated, .web, detail: "address given again in a subscription request")
            }
            try Self.apply(
                SubscriberChange(name: new.name ?? "", categories: new.categories, language: new.language), to: &record, db,
                source: .web)
            return .needsConfirmation(try Self.loaded(db, record))
        }
    }

    /// Activates a subscriber whose owner confirmed through their link: a pending one, or one
    /// who comes back after unsubscribing or bouncing (their bounce count starts again).
    /// Confirming again changes nothing.
    ///
    /// - Returns: the subscriber, or `nil` when there is none with this id any more.
    public func confirm(id: Int64) async throws -> Subscriber? {
        try await database.write { db in
            guard var record = try SubscriberRecord.fetchOne(db, key: id), record.email != nil else { return nil }
            let status = SubscriberStatus(rawValue: record.status) ?? .paused
            if status == .pending || status.isSuppressed {
                record.bounceCount = 0
                record.bounceScore = 0
                try Self.apply(SubscriberChange(status: .active), to: &record, db, source: .web)
            }
            return try Self.loaded(db, record)
        }
    }

    /// The categories at least one active subscriber reads, most read first.
    public func activeCategories() async throws -> [String] {
        try await stats().activeByCategory.map(\.0)
    }

    public func stats() async throws -> SubscriberStats {
        try await database.read { db in
            let statusCounts = try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM subscriber GROUP BY status")
                    .map { (row: Row) in (row["status"] as String, row["n"] as Int) })
            let byCategory = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.category, COUNT(*) AS n FROM subscriber_category c
                    JOIN subscriber s ON s.id = c.subscriber_id
                    WHERE s.status = 'active' GROUP BY c.category ORDER BY n DESC, c.category
                    """
            ).map { (row: Row) in (row["category"] as String, row["n"] as Int) }
            let languageCounts = try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(
                    db, sql: "SELECT language, COUNT(*) AS n FROM subscriber WHERE status = 'active' GROUP BY language"
                ).map { (row: Row) in (row["language"] as String, row["n"] as Int) })
            return SubscriberStats(
                byStatus: SubscriberStatus.allCases.map { ($0, statusCounts[$0.rawValue] ?? 0) },
                activeByCategory: byCategory,
                activeByLanguage: Language.allCases.map { ($0, languageCounts[$0.rawValue] ?? 0) })
        }
    }
}

// MARK: - Operations inside a transaction, shared by the single-subscriber calls and the import's known addresses

extension SubscriberStore {
    static func record(_ db: Database, for address: EmailAddress) throws -> SubscriberRecord? {
        try SubscriberRecord.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM subscriber WHERE email_key IN (?, ?)"),
            arguments: [address.key, SubscriberRecord.forgottenKey(for: address.key)])
    }

    /// Adds a subscriber with its categories, interests and the event that says how. (An
    /// import adds its new addresses in bulk instead: see `StagedImport`.)
    static func insert(_ db: Database, _ new: NewSubscriber, source: SubscriberEvent.Source, kind: SubscriberEvent.Kind) throws -> Subscriber {
        let now = Date()
        let stamp = now.fastDatabaseValue
        try db.cachedStatement(sql: """
            INSERT INTO subscriber (email, email_key, name, language, status, secret, bounce_count, bounce_score, created_at,
            confirmed_at, unsubscribed_at, updated_at, schedule) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?)
            """
        ).execute(arguments: [
            new.email.value, new.email.key, new.name, new.language.rawValue, new.status.rawValue, SubscriberKeys.newSecrets(1)[0], stamp,
            new.status == .active || new.status == .paused ? stamp : nil, new.status == .unsubscribed ? stamp : nil, stamp,
            new.schedule.description,
        ])
        let id = db.lastInsertedRowID
        try addCategories(db, of: id, new.categories)
        for kind in ReaderInterests.Kind.allCases {
            try addInterests(db, of: id, kind, new.interests[kind])
        }
        try log(db, id, kind, source, detail: new.addedDetail, at: now)
        return Subscriber(
            id: id, email: new.email.value, name: new.name, language: new.language, status: new.status, categories: new.categories,
            bounceCount: 0, createdAt: now, confirmedAt: new.status == .active || new.status == .paused ? now : nil,
            unsubscribedAt: new.status == .unsubscribed ? now : nil, interests: new.interests, schedule: new.schedule)
    }

    /// Applies a change and logs one event per kind of change. Returns whether anything changed.
    @discardableResult
    static func apply(_ change: SubscriberChange, to record: inout SubscriberRecord, _ db: Database, source: SubscriberEvent.Source) throws -> Bool {
        let id = record.id!
        let now = Date()
        let edit = try SubscriberEdit(
            change, on: record.fields, categories: change.touchesCategories ? try categories(db, of: id) : nil,
            interests: change.interests.isEmpty ? nil : try interests(db, of: id), now: now)
        guard edit.changed else { return false }
        if let categories = edit.categories {
            try setCategories(db, of: id, to: categories)
        }
        for (kind, entries) in edit.interests {
            try setInterests(db, of: id, kind, to: entries)
        }
        for event in edit.events {
            try log(db, id, event.kind, source, detail: event.detail)
        }
        record.fields = edit.fields
        record.updatedAt = now
        try record.update(db)
        return true
    }

    static func linkIdentity(_ db: Database, id: Int64) throws -> LinkIdentity? {
        guard let record = try SubscriberRecord.fetchOne(db, key: id), record.email != nil else { return nil }
        return LinkIdentity(subscriber: try loaded(db, record), secret: record.secret)
    }

    static func categories(_ db: Database, of id: Int64) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT category FROM subscriber_category WHERE subscriber_id = ? ORDER BY position", arguments: [id])
    }

    /// The subscriber a record stands for, with their categories and interests.
    static func loaded(_ db: Database, _ record: SubscriberRecord) throws -> Subscriber {
        record.subscriber(categories: try categories(db, of: record.id!), interests: try interests(db, of: record.id!))
    }

    static func interests(_ db: Database, of id: Int64) throws -> ReaderInterests {
        try interests(db, of: [id])[id] ?? .none
    }

    static func setInterests(_ db: Database, of id: Int64, _ kind: ReaderInterests.Kind, to entries: [String]) throws {
        try db.cachedStatement(sql: "DELETE FROM subscriber_interest WHERE subscriber_id = ? AND kind = ?").execute(arguments: [id, kind.rawValue])
        try addInterests(db, of: id, kind, entries)
    }

    private static func addInterests(_ db: Database, of id: Int64, _ kind: ReaderInterests.Kind, _ entries: [String]) throws {
        guard !entries.isEmpty else { return }
        let insert = try db.cachedStatement(sql: "INSERT INTO subscriber_interest (subscriber_id, kind, phrase, position) VALUES (?, ?, ?, ?)")
        for (position, entry) in entries.enumerated() {
            try insert.execute(arguments: [id, kind.rawValue, entry, position])
        }
    }

    static func setCategories(_ db: Database, of id: Int64, to codes: [String]) throws {
        try db.cachedStatement(sql: "DELETE FROM subscriber_category WHERE subscriber_id = ?").execute(arguments: [id])
        try addCategories(db, of: id, codes)
    }

    static func addCategories(_ db: Database, of id: Int64, _ codes: [String]) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO subscriber_category (subscriber_id, category, position) VALUES (?, ?, ?)")
        for (position, code) in codes.enumerated() {
            try insert.execute(arguments: [id, code, position])
        }
    }

    static func log(
        _ db: Database, _ id: Int64, _ kind: SubscriberEvent.Kind, _ source: SubscriberEvent.Source, detail: String?, at date: Date = Date()
    ) throws {
        try db.cachedStatement(sql: "INSERT INTO subscriber_event (subscriber_id, kind, source, detail, created_at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [id, kind.rawValue, source.rawValue, detail, date.fastDatabaseValue])
    }
}
