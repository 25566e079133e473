import Foundation
import PaperPostCore
import PaperPostStore
import PostgresNIO

/// The list's changes in PostgreSQL: what the web pages and the `subscribers` commands do. Each
/// is one transaction that locks the subscriber's row first, so that two replicas changing one
/// reader do so one after the other, and writes the same events as the SQLite store.
extension PostgresSubscriberStore: SubscriberRegistry {
    @discardableResult
    public func add(_ new: NewSubscriber, source: SubscriberEvent.Source) async throws -> Subscriber {
        try await database.pooledTransaction { connection in
            if let existing = try await Self.stored(new.email, locked: true, database, connection) {
                throw StoreError.alreadyExists(email: new.email.value, status: existing.fields.status)
            }
            guard let added = try await Self.insert(new, source: source, database, connection) else {
                throw StoreError.alreadyExists(email: new.email.value, status: "just added by another process")
            }
            return added
        }
    }

    public func find(_ address: EmailAddress) async throws -> Subscriber? {
        try await database.pooledTransaction { connection in
            guard let row = try await Self.stored(address, locked: false, database, connection) else { return nil }
            return try await Self.loaded(row, database, connection)
        }
    }

    public func events(of subscriber: Subscriber) async throws -> [SubscriberEvent] {
        try await database.pooledStatement(
            "SELECT kind, source, detail, created_at FROM subscriber_event WHERE subscriber_id = \(subscriber.id) ORDER BY id"
        ).map {
            let (kind, source, detail, at) = try $0.decode((String, String, String?, Date).self)
            return SubscriberEvent(
                kind: SubscriberEvent.Kind(rawValue: kind) ?? .updated, source: SubscriberEvent.Source(rawValue: source) ?? .cli,
                detail: detail, at: at)
        }
    }

    @discardableResult
    public func update(_ address: EmailAddress, _ change: SubscriberChange, source: SubscriberEvent.Source) async throws -> Subscriber {
        try await database.pooledTransaction { connection in
            guard var row = try await Self.stored(address, locked: true, database, connection), row.email != nil else {
                throw StoreError.notFound(email: address.value)
            }
            try await Self.apply(change, to: &row, source: source, database, connection)
            return try await Self.loaded(row, database, connection)
        }
    }

    @discardableResult
    public func update(id: Int64, _ change: SubscriberChange, source: SubscriberEvent.Source) async throws -> Subscriber {
        try await database.pooledTransaction { connection in
            guard var row = try await Self.stored(id: id, database, connection), row.email != nil else {
                throw StoreError.notFound(email: "#\(id)")
            }
            try await Self.apply(change, to: &row, source: source, database, connection)
            return try await Self.loaded(row, database, connection)
        }
    }

    @discardableResult
    public func unsubscribe(_ address: EmailAddress, source: SubscriberEvent.Source) async throws -> Bool {
        try await database.pooledTransaction { connection in
            guard var row = try await Self.stored(address, locked: true, database, connection) else {
                throw StoreError.notFound(email: address.value)
            }
            guard row.fields.status != SubscriberStatus.unsubscribed.rawValue else { return false }
            try await Self.apply(SubscriberChange(status: .unsubscribed), to: &row, source: source, database, connection)
            return true
        }
    }

    public func unsubscribe(
        id: Int64, source: SubscriberEvent.Source, authorized: @escaping @Sendable (LinkIdentity) -> Bool
    ) async throws -> Subscriber? {
        try await database.pooledTransaction { connection in
            guard var row = try await Self.stored(id: id, database, connection), row.email != nil else { return nil }
            let categories = try await Self.categories(of: [id], database, connection)[id] ?? []
            guard authorized(LinkIdentity(subscriber: row.subscriber(categories: categories), secret: row.secret)) else { return nil }
            if row.fields.status != SubscriberStatus.unsubscribed.rawValue {
                try await Self.apply(SubscriberChange(status: .unsubscribed), to: &row, source: source, database, connection)
            }
            return row.subscriber(categories: categories)
        }
    }

    public func forget(_ address: EmailAddress, source: SubscriberEvent.Source) async throws {
        try await database.pooledTransaction { connection in
            guard var row = try await Self.stored(address, locked: true, database, connection) else {
                throw StoreError.notFound(email: address.value)
            }
            if row.email == nil { return }
            if !(SubscriberStatus(rawValue: row.fields.status)?.isSuppressed ?? false) {
                try await Self.apply(SubscriberChange(status: .unsubscribed), to: &row, source: source, database, connection)
            }
            let id = row.id
            try await database.run(
                """
                UPDATE subscriber SET email = NULL, name = NULL, email_key = \(SubscriberKeys.forgotten(address.key)), updated_at = \(Date())
                WHERE id = \(id)
                """,
                on: connection)
            for table in ["subscriber_category", "subscriber_interest", "subscriber_vote", "subscriber_taste"] {
                try await database.run(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE subscriber_id = $1", binds: Self.binding(id)), on: connection)
            }
            try await database.run("UPDATE subscriber_event SET detail = NULL WHERE subscriber_id = \(id)", on: connection)
            try await Self.log(id, .forgotten, source, detail: nil, database, connection)
        }
    }

    public func linkIdentity(id: Int64) async throws -> LinkIdentity? {
        try await database.pooledTransaction { connection in
            guard let row = try await Self.stored(id: id, locked: false, database, connection), row.email != nil else { return nil }
            return LinkIdentity(subscriber: try await Self.loaded(row, database, connection), secret: row.secret)
        }
    }

    public func requestSubscription(_ new: NewSubscriber) async throws -> SubscriptionRequest {
        // A new address signed up on two replicas at once: the second insert waits for the
        // first to commit and inserts nothing, and the request is then answered again.
        if let answer = try await requestSubscriptionOnce(new) { return answer }
        if let answer = try await requestSubscriptionOnce(new) { return answer }
        throw StoreError.database("the subscription request for \(new.email.value) conflicted twice with another one; try again")
    }

    private func requestSubscriptionOnce(_ new: NewSubscriber) async throws -> SubscriptionRequest? {
        try await database.pooledTransaction { connection in
            guard var row = try await Self.stored(new.email, locked: true, database, connection) else {
                var pending = new
                pending.status = .pending
                return try await Self.insert(pending, source: .web, database, connection).map { .needsConfirmation($0) }
            }
            let status = SubscriberStatus(rawValue: row.fields.status) ?? .paused
            if status == .active || status == .paused {
                return .alreadySubscribed(try await Self.loaded(row, database, connection))
            }
            if row.email == nil {
                try await database.run(
                    "UPDATE subscriber SET email = \(new.email.value), email_key = \(new.email.key), updated_at = \(Date()) WHERE id = \(row.id)",
                    on: connection)
                row.email = new.email.value
                try await Self.log(row.id, .updated, .web, detail: "address given again in a subscription request", database, connection)
            }
            try await Self.apply(
                SubscriberChange(name: new.name ?? "", categories: new.categories, language: new.language), to: &row, source: .web, database,
                connection)
            return .needsConfirmation(try await Self.loaded(row, database, connection))
        }
    }

    public func confirm(id: Int64) async throws -> Subscriber? {
        try await database.pooledTransaction { connection in
            guard var row = try await Self.stored(id: id, database, connection), row.email != nil else { return nil }
            let status = SubscriberStatus(rawValue: row.fields.status) ?? .paused
            if status == .pending || status.isSuppressed {
                try await database.run("UPDATE subscriber SET bounce_count = 0, bounce_score = 0 WHERE id = \(id)", on: connection)
                row.bounceCount = 0
                row.bounceScore = 0
                try await Self.apply(SubscriberChange(status: .active), to: &row, source: .web, database, connection)
            }
            return try await Self.loaded(row, database, connection)
        }
    }

    public func vote(
        id: Int64, paper: String, _ vote: Vote, taste: @escaping @Sendable ([VotedPaper]) -> [String: Double]
    ) async throws -> Bool {
        try await database.pooledTransaction { connection in
            guard try await Self.lockForVotes(id, database, connection),
                !(try await database.run("SELECT 1 FROM paper WHERE id = \(paper)", on: connection).isEmpty)
            else { return false }
            try await database.run(
                """
                INSERT INTO subscriber_vote (subscriber_id, paper_id, vote, created_at) VALUES (\(id), \(paper), \(Int64(vote.rawValue)), \(Date()))
                ON CONFLICT (subscriber_id, paper_id) DO UPDATE SET vote = EXCLUDED.vote, created_at = EXCLUDED.created_at
                """,
                on: connection)
            try await Self.remakeTaste(of: id, taste, database, connection)
            return true
        }
    }

    public func withdrawVote(id: Int64, paper: String, _ vote: Vote, taste: @escaping @Sendable ([VotedPaper]) -> [String: Double]) async throws {
        try await database.pooledTransaction { connection in
            guard try await Self.lockForVotes(id, database, connection) else { return }
            let withdrawn = try await database.run(
                "DELETE FROM subscriber_vote WHERE subscriber_id = \(id) AND paper_id = \(paper) AND vote = \(Int64(vote.rawValue)) RETURNING 1",
                on: connection)
            if !withdrawn.isEmpty { try await Self.remakeTaste(of: id, taste, database, connection) }
        }
    }

    public func currentVote(id: Int64, paper: String) async throws -> Vote? {
        try await database.pooledStatement("SELECT vote FROM subscriber_vote WHERE subscriber_id = \(id) AND paper_id = \(paper)").first
            .flatMap { Vote(rawValue: Int(try $0.decode(Int64.self))) }
    }

    public func votes(of id: Int64) async throws -> [PaperVote] {
        try await database.pooledStatement(
            """
            SELECT v.paper_id, p.title, v.vote, v.created_at FROM subscriber_vote v LEFT JOIN paper p ON p.id = v.paper_id
            WHERE v.subscriber_id = \(id) ORDER BY v.created_at DESC, v.paper_id COLLATE "C"
            """
        ).map {
            let (paper, title, vote, at) = try $0.decode((String, String?, Int64, Date).self)
            return PaperVote(paperID: paper, title: title, vote: Vote(rawValue: Int(vote)) ?? .up, at: at)
        }
    }

    public func exportRows(after id: Int64, limit: Int) async throws -> [ExportedSubscriber] {
        try await database.pooledTransaction { connection in
            let rows = try await database.run(
                """
                SELECT id, email, name, language, status, schedule FROM subscriber WHERE id > \(id) AND email IS NOT NULL
                ORDER BY id LIMIT \(Int64(max(0, limit)))
                """,
                on: connection
            ).map { try $0.decode((Int64, String, String?, String, String, String).self) }
            let ids = rows.map(\.0)
            let categories = try await Self.categories(of: ids, database, connection)
            let interests = try await Self.interests(of: ids, database, connection)
            return rows.map { id, email, name, language, status, schedule in
                ExportedSubscriber(
                    id: id, email: email, name: name, language: language, status: status, schedule: schedule, categories: categories[id] ?? [],
                    interests: interests[id] ?? .none)
            }
        }
    }
}

// MARK: - Inside a transaction

extension PostgresSubscriberStore {
    /// A `subscriber` row as a change reads and writes it.
    struct StoredRow {
        var id: Int64
        var email: String?
        var secret: String
        var bounceCount: Int
        var bounceScore: Double
        var lastBounceAt: Date?
        var createdAt: Date
        var fields: SubscriberFields

        func subscriber(categories: [String], interests: ReaderInterests = .none) -> Subscriber {
            Subscriber(
                id: id, email: email, name: fields.name, language: Language(rawValue: fields.language) ?? .en,
                status: SubscriberStatus(rawValue: fields.status) ?? .paused, categories: categories, bounceCount: bounceCount,
                bounceScore: bounceScore, createdAt: createdAt, confirmedAt: fields.confirmedAt, unsubscribedAt: fields.unsubscribedAt,
                interests: interests, schedule: (try? Schedule(parsing: fields.schedule)) ?? .daily)
        }

        init(_ row: PostgresRow) throws {
            let (id, email, name, language, status, secret, bounces, score, lastBounce, created, confirmed, unsubscribed, schedule) = try row.decode(
                (Int64, String?, String?, String, String, String, Int64, Double, Date?, Date, Date?, Date?, String).self)
            self.id = id
            self.email = email
            self.secret = secret
            bounceCount = Int(bounces)
            bounceScore = score
            lastBounceAt = lastBounce
            createdAt = created
            fields = SubscriberFields(
                name: name, language: language, status: status, schedule: schedule, confirmedAt: confirmed, unsubscribedAt: unsubscribed)
        }
    }

    static let storedColumns = """
        SELECT id, email, name, language, status, secret, bounce_count, bounce_score, last_bounce_at, created_at, confirmed_at,
            unsubscribed_at, schedule
        FROM subscriber
        """

    /// The row of an address, or of its forgotten key; locked until the transaction ends when
    /// it is about to be changed.
    static func stored(_ address: EmailAddress, locked: Bool, _ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> StoredRow? {
        var bindings = PostgresBindings()
        bindings.append(address.key)
        bindings.append(SubscriberKeys.forgotten(address.key))
        let query = PostgresQuery(
            unsafeSQL: storedColumns + " WHERE email_key IN ($1, $2)" + (locked ? " FOR UPDATE" : ""), binds: bindings)
        return try await database.run(query, on: connection).first.map(StoredRow.init)
    }

    static func stored(id: Int64, locked: Bool = true, _ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> StoredRow? {
        let query = PostgresQuery(unsafeSQL: storedColumns + " WHERE id = $1" + (locked ? " FOR UPDATE" : ""), binds: binding(id))
        return try await database.run(query, on: connection).first.map(StoredRow.init)
    }

    static func binding(_ id: Int64) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(id)
        return bindings
    }

    static func loaded(_ row: StoredRow, _ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> Subscriber {
        row.subscriber(
            categories: try await categories(of: [row.id], database, connection)[row.id] ?? [],
            interests: try await interests(of: [row.id], database, connection)[row.id] ?? .none)
    }

    /// Adds a subscriber with their categories, interests and first event.
    ///
    /// - Returns: `nil` when another transaction added the address first.
    static func insert(
        _ new: NewSubscriber, source: SubscriberEvent.Source, _ database: PostgresDatabase, _ connection: PostgresConnection
    ) async throws -> Subscriber? {
        let now = Date()
        guard let id = try await insert([new], source: source, kind: .added, now: now, database, connection)[new.email.key] else { return nil }
        return Subscriber(
            id: id, email: new.email.value, name: new.name, language: new.language, status: new.status, categories: new.categories,
            bounceCount: 0, createdAt: now, confirmedAt: new.status == .active || new.status == .paused ? now : nil,
            unsubscribedAt: new.status == .unsubscribed ? now : nil, interests: new.interests, schedule: new.schedule)
    }

    /// Applies a change as ``SubscriberEdit`` works it out and logs its events. Returns whether
    /// anything changed.
    @discardableResult
    static func apply(
        _ change: SubscriberChange, to row: inout StoredRow, source: SubscriberEvent.Source, _ database: PostgresDatabase,
        _ connection: PostgresConnection
    ) async throws -> Bool {
        let id = row.id
        let now = Date()
        let edit = try SubscriberEdit(
            change, on: row.fields,
            categories: change.touchesCategories ? try await categories(of: [id], database, connection)[id] ?? [] : nil,
            interests: change.interests.isEmpty ? nil : try await interests(of: [id], database, connection)[id] ?? ReaderInterests.none,
            now: now)
        guard edit.changed else { return false }
        try await write([PendingEdit(id: id, edit: edit, address: nil)], source: source, now: now, database, connection)
        row.fields = edit.fields
        return true
    }

    static func log(
        _ id: Int64, _ kind: SubscriberEvent.Kind, _ source: SubscriberEvent.Source, detail: String?, _ database: PostgresDatabase,
        _ connection: PostgresConnection
    ) async throws {
        try await database.run(
            """
            INSERT INTO subscriber_event (subscriber_id, kind, source, detail, created_at)
            VALUES (\(id), \(kind.rawValue), \(source.rawValue), \(detail), \(Date()))
            """,
            on: connection)
    }

    /// Locks the reader's row, so that two votes of one reader remake their taste one after the
    /// other, each from every vote. Returns whether the reader exists.
    static func lockForVotes(_ id: Int64, _ database: PostgresDatabase, _ connection: PostgresConnection) async throws -> Bool {
        !(try await database.run("SELECT 1 FROM subscriber WHERE id = \(id) FOR UPDATE", on: connection).isEmpty)
    }

    static func remakeTaste(
        of id: Int64, _ taste: ([VotedPaper]) -> [String: Double], _ database: PostgresDatabase, _ connection: PostgresConnection
    ) async throws {
        let voted = try await database.run(
            "SELECT p.title, p.abstract, v.vote FROM subscriber_vote v JOIN paper p ON p.id = v.paper_id WHERE v.subscriber_id = \(id)",
            on: connection
        ).map {
            let (title, abstract, vote) = try $0.decode((String, String, Int64).self)
            return VotedPaper(title: title, abstract: abstract, vote: Vote(rawValue: Int(vote)) ?? .up)
        }
        let weights = taste(voted)
        guard !weights.isEmpty else {
            try await database.run("DELETE FROM subscriber_taste WHERE subscriber_id = \(id)", on: connection)
            return
        }
        let json = String(decoding: try JSONEncoder.sorted.encode(weights), as: UTF8.self)
        try await database.run(
            """
            INSERT INTO subscriber_taste (subscriber_id, terms, updated_at) VALUES (\(id), \(json), \(Date()))
            ON CONFLICT (subscriber_id) DO UPDATE SET terms = EXCLUDED.terms, updated_at = EXCLUDED.updated_at
            """,
            on: connection)
    }
}
