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
        categories: [String], language: Language, interests: ReaderInterests, taste: [String: Double] = [:]
    ) -> PersonalEdition? {
        guard !interests.isEmpty || !taste.isEmpty else { return nil }
        let ranked = order(categories: categories, interests: interests, taste: taste)
        let picks = ranked.prefix(index.mustRead + index.more)
        let mustRead = picks.filter { index.entry(id: $0.id)?.summaries[language] != nil }.prefix(index.mustRead).map(\.id)
        let more = picks.map(\.id).filter { !mustRead.contains($0) }
        var reasons: [String: PersonalReason] = [:]
        for pick in picks {
            if let reason = pick.reason { reasons[pick.id] = reason }
        }
        return PersonalEdition(mustRead: mustRead, more: more, reasons: reasons)
    }

    /// The reader's papers best first, whether or not they have summaries: what curation
    /// asks which papers to summarise (the ones that would be must-reads for most readers).
    public func order(
        categories: [String], interests: ReaderInterests, taste: [String: Double]
    ) -> [(id: String, reason: PersonalReason?)] {
        let wanted = Set(categories)
        let muted = interests.muted.map { index.phraseScores($0.lowercased(), cache: phrases) }
        let matches = interests.interests.map { ($0, index.phraseScores($0.lowercased(), cache: phrases)) }
        let followed = interests.authors.compactMap(phrases.author)

        let candidates = index.documents.indices.filter { i in
            !index.documents[i].categories.isDisjoint(with: wanted) && !muted.contains { $0[i] != nil }
        }
        // Each phrase's best match of the day, so that a phrase's weight does not depend on how
        // long or rare its words are.
        let best = matches.map { _, scores in candidates.compactMap { scores[$0] }.max() ?? 0 }

        // Likeness to the reader's votes, scaled by the day's strongest likeness either way.
        let likeness = taste.isEmpty ? [] : index.similarities(taste)
        let mostLike = candidates.map { likeness.isEmpty ? 0 : likeness[$0] }.filter { $0 > 0 }.max() ?? 0
        let mostUnlike = -(candidates.map { likeness.isEmpty ? 0 : likeness[$0] }.filter { $0 < 0 }.min() ?? 0)

        var ranked: [(score: Double, id: String, reason: PersonalReason?)] = []
        for i in candidates {
            let document = index.documents[i]
            var score = document.entry.score
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
            if let author = document.authors.first(where: { author in followed.contains { $0.matches(author.key) } }) {
                score += Self.authorWeight
                reason = .author(author.name)
            }
            ranked.append((score, document.entry.paper.id, reason))
        }
        ranked.sort { ($0.score, $1.id) > ($1.score, $0.id) }
        return ranked.map { ($0.id, $0.reason) }
    }
}
