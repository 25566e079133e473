import Foundation
import PaperPostCore

/// Each reader's own order of the day's papers in their categories: the curation score, plus
/// what the reader told us. A muted phrase drops a paper; an interest phrase in the title or
/// abstract adds up to ``interestWeight`` points (scaled by how strongly it matches, BM25, against
/// the best match of the day); a followed author adds ``authorWeight``. Curation scores run
/// from 1 to 10, so a clear interest outranks a few points of general merit but not a gulf.
public struct PersonalRanker: Sendable {
    public static let interestWeight = 4.0
    public static let authorWeight = 4.0
    /// Likeness to the papers a reader voted up adds up to this much; to those voted down
    /// takes up to this much away.
    public static let tasteWeight = 4.0

    let index: DayIndex
    let phrases = PhraseCache()

    public init(_ index: DayIndex) {
        self.index = index
    }

    public init(_ digest: Digest) {
        self.init(DayIndex(digest))
    }

    /// The reader's edition, or `nil` when they set no interests and never voted: then they
    /// get the day's edition for their categories exactly as everyone else in them.
    ///
    /// A must-read needs a deep summary in the reader's language; a paper ranked high without
    /// one stays among the picks, in the table, with its reason.
    public func edition(
        categories: [String], language: Language, interests: ReaderInterests, taste: TasteVector = TasteVector()
    ) -> PersonalEdition? {
        guard !interests.isEmpty || !taste.isEmpty else { return nil }
        var mustRead: [String] = []
        var more: [String] = []
        var reasons: [String: PersonalReason] = [:]
        reasons.reserveCapacity(index.mustRead + index.more)
        for pick in ranking(categories: categories, interests: interests, taste: taste).prefix(index.mustRead + index.more) {
            let id = index.ids[pick.document]
            if mustRead.count < index.mustRead && index.summarised[pick.document].contains(language) {
                mustRead.append(id)
            } else {
                more.append(id)
            }
            if let reason = pick.reason { reasons[id] = reason }
        }
        return PersonalEdition(mustRead: mustRead, more: more, reasons: reasons)
    }

    /// The reader's papers best first, whether or not they have summaries: what curation
    /// asks which papers to summarise (the ones that would be must-reads for most readers).
    public func order(
        categories: [String], interests: ReaderInterests, taste: TasteVector
    ) -> [(id: String, reason: PersonalReason?)] {
        ranking(categories: categories, interests: interests, taste: taste).map { (index.ids[$0.document], $0.reason) }
    }

    /// The reader's papers (by position in the index) best first. It runs for every reader of
    /// a send, so it works on positions and arrays prepared with the index, not on the papers.
    func ranking(
        categories: [String], interests: ReaderInterests, taste: TasteVector
    ) -> [(document: Int, reason: PersonalReason?)] {
        let muted = interests.muted.map { index.phraseScores($0.lowercased(), cache: phrases) }
        let matches = interests.interests.map { ($0, index.phraseScores($0.lowercased(), cache: phrases)) }
        let followed = interests.authors.compactMap(phrases.author)

        let inCategories = phrases.candidates(categories, in: index)
        let candidates = muted.isEmpty ? inCategories : inCategories.filter { i in !muted.contains { $0[i] != nil } }
        // Each phrase's best match of the day, so that a phrase's weight does not depend on how
        // long or rare its words are.
        let best = matches.map { _, scores in
            var best = 0.0
            for i in candidates { if let score = scores[i] { best = max(best, score) } }
            return best
        }

        // Likeness to the reader's votes, scaled by the day's strongest likeness either way.
        let likeness = taste.isEmpty ? [] : index.similarities(taste)
        var mostLike = 0.0
        var mostUnlike = 0.0
        if !likeness.isEmpty {
            for i in candidates {
                mostLike = max(mostLike, likeness[i])
                mostUnlike = max(mostUnlike, -likeness[i])
            }
        }

        var ranked: [(score: Double, document: Int, reason: PersonalReason?)] = []
        ranked.reserveCapacity(candidates.count)
        for i in candidates {
            var score = index.scores[i]
            var reason: PersonalReason?
            var strongest = 0.0
            if !likeness.isEmpty {
                let like = likeness[i]
                let points = like > 0 ? Self.tasteWeight * like / mostLike : like < 0 ? Self.tasteWeight * like / mostUnlike : 0
                score += points
                // A weak likeness is no reason to tell the reader about.
                if points >= Self.tasteWeight / 4 {
                    strongest = points
                    reason = .likeVotedUp
                }
            }
            for (p, (phrase, scores)) in matches.enumerated() {
                guard best[p] > 0, let match = scores[i] else { continue }
                let points = Self.interestWeight * match / best[p]
                score += points
                if points > strongest {
                    strongest = points
                    reason = .interest(phrase)
                }
            }
            if !followed.isEmpty, let author = index.authors[i].first(where: { author in followed.contains { $0.matches(author.key) } }) {
                score += Self.authorWeight
                reason = .author(author.name)
            }
            ranked.append((score, i, reason))
        }
        // Ties go to the smaller arXiv id, as the day's edition orders them.
        let idOrder = index.idOrder
        ranked.sort { ($0.score, idOrder[$1.document]) > ($1.score, idOrder[$0.document]) }
        return ranked.map { ($0.document, $0.reason) }
    }
}
