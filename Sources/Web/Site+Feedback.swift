import Foundation
import Hummingbird
import PaperPostCore
import PaperPostStore
import Ranking

/// "More like this" and "less like this" under each paper in the email. As with unsubscribing,
/// the GET only shows the paper and one button (mail scanners follow every link); the POST
/// records the vote, which reranks the reader's next editions, and offers an undo.
extension Site {
    func feedbackPage(_ request: Request) async throws -> Response {
        let token = Self.token(request)
        guard case .success(let (subscriber, paper, vote)) = try await feedbackHolder(token) else { return invalidLink(Self.language(request), request) }
        let language = Self.language(request, reader: subscriber.language)
        let text = FeedbackText.for(language)
        guard let title = try await papers.title(of: paper) else {
            return message(language, heading: text.gone, paragraphs: [], status: .notFound)
        }
        if try await subscribers.currentVote(id: subscriber.id, paper: paper) == vote {
            return message(
                language, heading: text.recorded(vote), paragraphs: [text.effect(vote, title)],
                button: ["action": "/feedback/undo?token=\(token)&lang=\(language.rawValue)", "label": WebText.for(language).undoButton])
        }
        return message(
            language, heading: text.question(vote), paragraphs: [text.explanation(vote, title)],
            button: ["action": "/feedback?token=\(token)&lang=\(language.rawValue)", "label": text.button(vote)])
    }

    func recordFeedback(_ request: Request) async throws -> Response {
        let token = Self.token(request)
        guard case .success(let (subscriber, paper, vote)) = try await feedbackHolder(token) else { return invalidLink(Self.language(request)) }
        let language = Self.language(request, reader: subscriber.language)
        let text = FeedbackText.for(language)
        guard let title = try await papers.title(of: paper),
            try await subscribers.vote(id: subscriber.id, paper: paper, vote, taste: TasteProfile.vector)
        else {
            return message(language, heading: text.gone, paragraphs: [], status: .notFound)
        }
        return message(
            language, heading: text.recorded(vote), paragraphs: [text.effect(vote, title)],
            button: ["action": "/feedback/undo?token=\(token)&lang=\(language.rawValue)", "label": WebText.for(language).undoButton])
    }

    func undoFeedback(_ request: Request) async throws -> Response {
        let token = Self.token(request)
        guard case .success(let (subscriber, paper, vote)) = try await feedbackHolder(token) else { return invalidLink(Self.language(request)) }
        let language = Self.language(request, reader: subscriber.language)
        try await subscribers.withdrawVote(id: subscriber.id, paper: paper, vote, taste: TasteProfile.vector)
        return message(language, heading: FeedbackText.for(language).withdrawn, paragraphs: [])
    }

    /// The reader, paper and vote a feedback link names, after checking its signature and expiry.
    func feedbackHolder(_ token: String) async throws -> Result<(Subscriber, String, Vote), LinkProblem> {
        switch try await holder(of: token, .feedback) {
        case .failure(let problem):
            return .failure(problem)
        case .success(let subscriber):
            guard let subject = LinkToken(unverified: token)?.subject, let (paper, vote) = Vote.parse(subject: subject) else {
                return .failure(.invalid)
            }
            return .success((subscriber, paper, vote))
        }
    }
}

/// The feedback pages' words.
struct FeedbackText {
    var question: (Vote) -> String
    var explanation: (Vote, String) -> String
    var button: (Vote) -> String
    var recorded: (Vote) -> String
    var effect: (Vote, String) -> String
    var withdrawn: String
    var gone: String

    static func `for`(_ language: Language) -> FeedbackText {
        switch language {
        case .zh:
            FeedbackText(
                question: { $0 == .up ? "多推荐这类论文？" : "少推荐这类论文？" },
                explanation: { vote, title in "以后的日报会把与《\(title)》相似的论文排得\(vote == .up ? "更靠前" : "更靠后")。" },
                button: { $0 == .up ? "好，多推荐这类" : "好，少推荐这类" },
                recorded: { $0 == .up ? "已记下：多推荐这类" : "已记下：少推荐这类" },
                effect: { vote, title in "从下一期起，与《\(title)》相似的论文会排得\(vote == .up ? "更靠前" : "更靠后")。" },
                withdrawn: "已撤回这次反馈。", gone: "这篇论文已不在存档中。")
        case .en:
            FeedbackText(
                question: { $0 == .up ? "More papers like this?" : "Fewer papers like this?" },
                explanation: { vote, title in "Your digest will rank papers like “\(title)” \(vote == .up ? "higher" : "lower")." },
                button: { $0 == .up ? "Yes, more like this" : "Yes, fewer like this" },
                recorded: { $0 == .up ? "Noted: more like this" : "Noted: fewer like this" },
                effect: { vote, title in "From the next edition, papers like “\(title)” rank \(vote == .up ? "higher" : "lower")." },
                withdrawn: "Your vote is taken back.", gone: "This paper is no longer in the archive.")
        }
    }
}
