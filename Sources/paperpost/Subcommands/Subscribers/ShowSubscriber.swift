import ArgumentParser
import Foundation
import PaperPostCore

struct ShowSubscriber: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one subscriber and their history.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The email address.")
    var email: String

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() async throws {
        let (subscriber, events, given) = try await global.withSubscribers { store, settings in
            let subscriber = try await store.get(try settings.address(email))
            return (subscriber, try await store.events(of: subscriber), try await store.votes(of: subscriber.id))
        }
        var votes = Listing(columns: ["at", "vote", "paper_id", "title"])
        for vote in given {
            votes.append([.text(vote.at.timestamp), .text(vote.vote.name), .text(vote.paperID), .text(vote.title)])
        }
        var history = Listing(columns: ["at", "event", "source", "detail"])
        for event in events {
            history.append([.text(event.at.timestamp), .text(event.kind.rawValue), .text(event.source.rawValue), .text(event.detail)])
        }
        var details = Listing(subscribers: [subscriber])
        details.columns.append("schedule")
        details.rows[0].append(.text(subscriber.schedule.description))
        for kind in ReaderInterests.Kind.allCases {
            details.columns.append(kind.field)
            details.rows[0].append(.list(subscriber.interests[kind]))
        }
        switch format {
        case .table, .csv:
            for (column, value) in zip(details.columns, details.rows[0]) {
                print("\(column.padding(toLength: 16, withPad: " ", startingAt: 0))\(value.cell)")
            }
            print("\nhistory:")
            Terminal.write(history.rendered(as: format))
            print("\nvotes:")
            Terminal.write(votes.rendered(as: format))
        case .json:
            var shown = details
            shown.columns.append("events")
            shown.rows[0].append(.records(history.objects))
            shown.columns.append("votes")
            shown.rows[0].append(.records(votes.objects))
            Terminal.write(shown.rendered(as: .json))
        }
    }
}
