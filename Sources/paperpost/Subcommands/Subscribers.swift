import ArgumentParser

struct Subscribers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the people who receive the digest.",
        subcommands: [
            AddSubscriber.self, ListSubscribers.self, ShowSubscriber.self, SubscriberStatsCommand.self,
            UpdateSubscriber.self, RemoveSubscriber.self, ImportSubscribers.self, ExportSubscribers.self,
        ]
    )
}
