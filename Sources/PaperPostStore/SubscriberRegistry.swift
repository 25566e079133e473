import Foundation
import PaperPostCore

/// What a web sign-up leads to.
public enum SubscriptionRequest: Sendable, Hashable {
    /// The address must confirm before anything is sent: it is new, pending, or came back
    /// after unsubscribing or bouncing.
    case needsConfirmation(Subscriber)
    /// The address already receives the digest (or paused it); nothing was changed.
    case alreadySubscribed(Subscriber)
}

/// The list as its readers and its operator change it: sign-ups, confirmations, preferences,
/// unsubscribes and votes, each one transaction that also writes the event saying who made it.
/// Two implementations: SQLite (``SubscriberStore``) and PostgreSQL, which several `serve`
/// replicas share.
public protocol SubscriberRegistry: SubscriberList {
    /// Adds a new subscriber.
    ///
    /// - Throws: ``StoreError/alreadyExists(email:status:)`` if the address is known, whatever
    ///   its status: an unsubscribed person is never re-added by accident.
    @discardableResult
    func add(_ new: NewSubscriber, source: SubscriberEvent.Source) async throws -> Subscriber
    /// The subscriber with this address, including a forgotten one (whose `email` is `nil`).
    func find(_ address: EmailAddress) async throws -> Subscriber?
    /// The audit trail of one subscriber, oldest first.
    func events(of subscriber: Subscriber) async throws -> [SubscriberEvent]
    /// Changes a subscriber.
    ///
    /// - Throws: ``StoreError/notFound(email:)``, or ``InputError`` when the change would
    ///   leave the subscriber without categories.
    @discardableResult
    func update(_ address: EmailAddress, _ change: SubscriberChange, source: SubscriberEvent.Source) async throws -> Subscriber
    /// Changes a subscriber named by id (a signed link names them by id).
    @discardableResult
    func update(id: Int64, _ change: SubscriberChange, source: SubscriberEvent.Source) async throws -> Subscriber
    /// Marks a subscriber unsubscribed and keeps the row, so that no later import re-adds them.
    ///
    /// - Returns: whether the status changed.
    @discardableResult
    func unsubscribe(_ address: EmailAddress, source: SubscriberEvent.Source) async throws -> Bool
    /// Unsubscribes the subscriber a link names, checking the link in the same transaction.
    /// Idempotent.
    ///
    /// - Returns: the subscriber afterwards, or `nil` when there is none or `authorized` refused.
    func unsubscribe(id: Int64, source: SubscriberEvent.Source, authorized: @escaping @Sendable (LinkIdentity) -> Bool) async throws -> Subscriber?
    /// Erases what identifies a person and keeps a SHA-256 of their address and their
    /// suppressed status, which is what keeps them from being mailed again.
    func forget(_ address: EmailAddress, source: SubscriberEvent.Source) async throws
    /// What a link's token is checked against and what its page shows, in one read; `nil` when
    /// there is no such subscriber or they were forgotten.
    func linkIdentity(id: Int64) async throws -> LinkIdentity?
    /// Records a request to subscribe, as typed into the web form by anyone: nothing about a
    /// subscriber who receives the digest changes, and a suppressed address stays suppressed
    /// until its owner confirms.
    func requestSubscription(_ new: NewSubscriber) async throws -> SubscriptionRequest
    /// Activates a subscriber whose owner confirmed through their link. Confirming again
    /// changes nothing.
    func confirm(id: Int64) async throws -> Subscriber?
    /// Records a reader's vote on a paper (replacing an earlier one) and remakes their taste
    /// from all their votes with `taste`, in one transaction.
    ///
    /// - Returns: `false` when the paper is not in the store (nothing is recorded).
    func vote(id: Int64, paper: String, _ vote: Vote, taste: @escaping @Sendable ([VotedPaper]) -> [String: Double]) async throws -> Bool
    /// Takes back a vote, if it is still the one given (the undo after voting).
    func withdrawVote(id: Int64, paper: String, _ vote: Vote, taste: @escaping @Sendable ([VotedPaper]) -> [String: Double]) async throws
    /// A reader's current vote on a paper, if any.
    func currentVote(id: Int64, paper: String) async throws -> Vote?
    /// A reader's votes, newest first.
    func votes(of id: Int64) async throws -> [PaperVote]
    /// Up to `limit` subscribers who still have an address, after the one with id `after`, in
    /// id order: a page of ``exportCSV(isolation:to:)``.
    func exportRows(after id: Int64, limit: Int) async throws -> [ExportedSubscriber]
    /// Imports subscribers from a CSV file read as it goes: every row checked before anything
    /// is written, then written in short transactions (see ``SubscriberStore``'s).
    ///
    /// - Throws: ``ImportError`` with every problem found, the list unchanged; or
    ///   ``ImportInterrupted`` when writing failed part-way (running it again finishes it).
    func importCSV(
        contentsOf url: URL, file: String, options: ImportOptions, progress: (@Sendable (ImportProgress) async -> Void)?
    ) async throws -> ImportReport
}

extension SubscriberRegistry {
    /// The subscriber with this address.
    ///
    /// - Throws: ``StoreError/notFound(email:)``.
    public func get(_ address: EmailAddress) async throws -> Subscriber {
        guard let subscriber = try await find(address) else {
            throw StoreError.notFound(email: address.value)
        }
        return subscriber
    }
}

/// A subscriber as the export writes them: the import's columns and nothing else.
public struct ExportedSubscriber: Sendable {
    public var id: Int64
    public var email: String
    public var name: String?
    public var language: String
    public var status: String
    public var schedule: String
    public var categories: [String]
    public var interests: ReaderInterests

    public init(
        id: Int64, email: String, name: String?, language: String, status: String, schedule: String, categories: [String],
        interests: ReaderInterests
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.language = language
        self.status = status
        self.schedule = schedule
        self.categories = categories
        self.interests = interests
    }
}

extension SubscriberRegistry {
    /// Every subscriber who still has an address, in the import format: exporting and
    /// importing into an empty database gives the same export again. Forgotten subscribers
    /// are left out (there is no address to write). A cell that a spreadsheet would run as a
    /// formula gets a leading `'` (see ``SpreadsheetFormula``), which the import takes off.
    ///
    /// Written a page of subscribers at a time through `output`.
    public func exportCSV(isolation: isolated (any Actor)? = #isolation, to output: @escaping (String) -> Void) async throws {
        var writer = ListingWriter(columns: SubscriberCSVColumn.allCases.map(\.rawValue), format: .csv, output: output)
        var after: Int64 = 0
        while true {
            let rows = try await exportRows(after: after, limit: 1_000)
            for row in rows {
                let lists: [Listing.Value] = ReaderInterests.Kind.allCases.map { kind in
                    .text(row.interests[kind].isEmpty ? nil : ReaderInterests.joined(row.interests[kind].map(SpreadsheetFormula.defused)))
                }
                let fields: [Listing.Value] = [
                    .text(SpreadsheetFormula.defused(row.email)), .text(row.name.map(SpreadsheetFormula.defused)), .list(row.categories),
                    .text(row.language), .text(row.status),
                ]
                writer.append(fields + lists + [.text(row.schedule)])
            }
            guard rows.count == 1_000, let last = rows.last else { break }
            after = last.id
        }
        writer.finish()
    }

    /// The whole export as one string (small lists, tests).
    public func exportCSV() async throws -> String {
        var text = ""
        try await exportCSV { text += $0 }
        return text
    }
}

extension SubscriberStore: SubscriberRegistry {}
