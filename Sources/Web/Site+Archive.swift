import Foundation
import Hummingbird
import PaperPostCore
import Ranking
import Rendering

/// The public archive: every edition as a page, and an Atom feed of them.
extension Site {
    func archive(_ request: Request) async throws -> Response {
        let language = Self.language(request)
        let text = WebText.for(language)
        let days = try await curation.digestDays(limit: 90).map { ["day": $0.description] }
        return page(language, title: text.archiveTitle, template: "archive", context: [
            "heading": text.archiveTitle, "days": days, "lang": language.rawValue, "empty": text.archiveEmpty,
        ])
    }

    func edition(_ request: Request, day text: String) async throws -> Response {
        let language = Self.language(request)
        let labels = WebText.for(language)
        func notFound() -> Response { message(language, heading: labels.notFoundTitle, paragraphs: [labels.notFoundMessage], status: .notFound) }
        guard let day = try? Day(parsing: text), let stamp = try await curation.digestStamp(on: day) else { return notFound() }
        // Rendered once per digest and language; curating the day again changes the stamp.
        let body = try await pages.page("edition \(day) \(language.rawValue)", stamp: stamp) {
            guard let digest = try await curation.digest(on: day) else { return nil }
            return pageHTML(language, title: "\(day)", content: Markdown.html(markdown.render(digest, language: language), links: .arxivAbstracts))
        }
        return body.map { htmlResponse($0) } ?? notFound()
    }

    /// A reader's own edition, from the link in their email: the email's papers, numbering and
    /// language, whatever the archive page shows.
    func readerEdition(_ request: Request, day text: String) async throws -> Response {
        let query = request.uri.queryParameters
        let fallback = Self.language(request)
        guard let day = try? Day(parsing: text),
            let link = EditionLink.verified(
                day: day, categories: query["c"].map(String.init), language: query["l"].map(String.init), weekly: query["w"].map(String.init),
                reader: query["r"].map(String.init), mac: query["s"].map(String.init), keys: verificationKeys),
            let digest = link.weekly ? try await curation.week(endingOn: day) : try await curation.digest(on: day)
        else {
            let labels = WebText.for(fallback)
            return message(fallback, heading: labels.notFoundTitle, paragraphs: [labels.notFoundMessage], status: .notFound)
        }
        // A reader's own edition, ranked by their interests and votes as they are now.
        var personal: PersonalEdition?
        if let id = link.reader, let reader = try await subscribers.recipients(id: id, includingInactive: true).first {
            personal = PersonalRanker(digest).edition(
                categories: link.categories, language: link.language, interests: reader.interests, taste: reader.taste)
        }
        let markdown = self.markdown.render(digest, language: link.language, categories: link.categories, personal: personal)
        return page(link.language, title: "\(day)", content: Markdown.html(markdown, links: .arxivAbstracts))
    }

    /// An Atom feed of the editions, newest first, for feed readers.
    /// Made again only when a digest in it was added or curated again.
    func feed() async throws -> Response {
        let stamps = try await curation.digestStamps(limit: 30)
        let xml = try await pages.page("feed", stamp: stamps.map { "\($0.day) \($0.createdAt)" }.joined(separator: ",")) {
            var entries: [[String: String]] = []
            var newest: Date?
            for (day, _) in stamps {
                guard let digest = try await curation.digest(on: day) else { continue }
                newest = max(newest ?? digest.createdAt, digest.createdAt)
                entries.append([
                    "day": day.description, "title": "ArXiv AI Daily \(day)", "updated": digest.createdAt.formatted(.iso8601),
                    "summary": digest.picks.map(\.paper.title.linkInert).joined(separator: " · "),
                ])
            }
            let xml = templates.render(
                ["base": settings.baseURL, "updated": (newest ?? Date()).formatted(.iso8601), "entries": entries], withTemplate: "feed.xml") ?? ""
            return ByteBuffer(string: xml)
        }
        return Response(
            status: .ok, headers: [.contentType: "application/atom+xml; charset=utf-8"], body: .init(byteBuffer: xml ?? ByteBuffer()))
    }
}
