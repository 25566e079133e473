/// An active subscriber as the mail side needs them: who, in what language, for which
/// categories, and the secret their links are signed with.
public struct Recipient: Sendable, Hashable {
    public var subscriberID: Int64
    public var email: String
    public var name: String?
    public var language: Language
    public var categories: [String]
    public var linkSecret: String
    public var status: SubscriberStatus
    /// What ranks their edition; ``ReaderInterests/none`` for the day's edition as it is.
    public var interests: ReaderInterests
    /// Term weights learnt from their votes (see `TasteProfile`); empty when they never voted.
    public var taste: TasteVector
    public var schedule: Schedule

    public init(
        subscriberID: Int64, email: String, name: String?, language: Language, categories: [String], linkSecret: String,
        status: SubscriberStatus = .active, interests: ReaderInterests = .none, taste: TasteVector = TasteVector(), schedule: Schedule = .daily
    ) {
        self.schedule = schedule
        self.taste = taste
        self.subscriberID = subscriberID
        self.email = email
        self.name = name
        self.language = language
        self.categories = categories
        self.linkSecret = linkSecret
        self.status = status
        self.interests = interests
    }
}
