import Foundation
import PaperPostCore
import Synchronization

/// The day's papers indexed once for every reader: each paper's words (title counted twice,
/// as a title says what the paper is about) and authors, and how rare each word is. Ranking a
/// reader is then lookups in this index, with no model call and no pass over the text.
public struct DayIndex: Sendable {
    struct Document: Sendable {
        var entry: DigestEntry
        var termCounts: [Substring: Int]
        var length: Int
        var authors: [(name: String, key: AuthorName)]
        var categories: Set<String>
        /// Unit tf-idf vector, compared with readers' tastes.
        var vector: [String: Double] = [:]
    }

    let documents: [Document]
    let documentFrequency: [Substring: Int]
    let averageLength: Double
    let mustRead: Int
    let more: Int
    let position: [String: Int]
    /// Each word's papers and weights (their unit tf-idf vectors, inverted): a reader's taste
    /// is compared with every paper in one pass over the taste's words. Flat arrays, a word's
    /// postings being one range of them, found by the word's ``TermHash``.
    let postings: TermTable
    let postingDocuments: [Int]
    let postingWeights: [Double]

    /// What ranking reads for every reader, by position: kept apart from the documents so
    /// that reading one does not copy a whole paper.
    let ids: [String]
    let scores: [Double]
    let authors: [[(name: String, key: AuthorName)]]
    /// The languages each paper has a deep summary in (a must-read needs one).
    let summarised: [Set<Language>]
    /// Each paper's place in the order of ids, for breaking ties without comparing strings.
    let idOrder: [Int]

    func entry(id: String) -> DigestEntry? {
        position[id].map { documents[$0].entry }
    }

    /// The positions of the papers filed in any of `categories`.
    func papers(in categories: [String]) -> [Int] {
        let wanted = Set(categories)
        return documents.indices.filter { !documents[$0].categories.isDisjoint(with: wanted) }
    }

    public init(_ digest: Digest) {
        var documents: [Document] = []
        var frequency: [Substring: Int] = [:]
        for entry in digest.entries {
            var counts: [Substring: Int] = [:]
            let title = Terms.of(entry.paper.title)
            for term in title { counts[term, default: 0] += 2 }
            let abstract = Terms.of(entry.paper.abstract)
            for term in abstract { counts[term, default: 0] += 1 }
            for term in counts.keys { frequency[term, default: 0] += 1 }
            documents.append(Document(
                entry: entry, termCounts: counts, length: title.count * 2 + abstract.count,
                authors: entry.paper.authors.compactMap { name in AuthorName(name).map { (name, $0) } },
                categories: Set(entry.paper.categories)))
        }
        for index in documents.indices {
            var vector: [String: Double] = [:]
            for (term, count) in documents[index].termCounts {
                let idf = log(Double(documents.count + 1) / Double((frequency[term] ?? 0) + 1)) + 1
                vector[String(term)] = (1 + log(Double(count))) * idf
            }
            let norm = vector.values.map { $0 * $0 }.reduce(0, +).squareRoot()
            documents[index].vector = norm > 0 ? vector.mapValues { $0 / norm } : [:]
        }
        var lists: [String: [(document: Int, weight: Double)]] = [:]
        for (index, document) in documents.enumerated() {
            for (term, weight) in document.vector { lists[term, default: []].append((index, weight)) }
        }
        var postings: [(hash: UInt64, range: Range<Int>)] = []
        var postingDocuments: [Int] = []
        var postingWeights: [Double] = []
        for (term, list) in lists {
            postings.append((TermHash.of(term), postingDocuments.count..<(postingDocuments.count + list.count)))
            postingDocuments += list.map(\.document)
            postingWeights += list.map(\.weight)
        }
        self.postings = TermTable(postings)
        self.postingDocuments = postingDocuments
        self.postingWeights = postingWeights
        self.documents = documents
        self.documentFrequency = frequency
        self.averageLength = documents.isEmpty ? 1 : max(1, Double(documents.map(\.length).reduce(0, +)) / Double(documents.count))
        self.position = Dictionary(documents.enumerated().map { ($1.entry.paper.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.ids = documents.map(\.entry.paper.id)
        self.scores = documents.map(\.entry.score)
        self.authors = documents.map(\.authors)
        self.summarised = documents.map { Set($0.entry.summaries.keys) }
        var idOrder = [Int](repeating: 0, count: documents.count)
        for (place, document) in documents.indices.sorted(by: { documents[$0].entry.paper.id < documents[$1].entry.paper.id }).enumerated() {
            idOrder[document] = place
        }
        self.idOrder = idOrder
        self.mustRead = digest.mustRead
        self.more = digest.more
    }

    /// Cosine similarity of a reader's taste (a unit vector) with every paper, by position.
    func similarities(_ taste: TasteVector) -> [Double] {
        var sums = [Double](repeating: 0, count: documents.count)
        for (hash, weight) in zip(taste.hashes, taste.weights) {
            guard let range = postings[hash] else { continue }
            for posting in range { sums[postingDocuments[posting]] += weight * postingWeights[posting] }
        }
        return sums
    }

    /// A phrase's BM25 in every paper (`nil` where not all its words are present), computed once
    /// per phrase however many readers share it.
    func phraseScores(_ phrase: String, cache: PhraseCache) -> [Double?] {
        if let known = cache.scores(phrase) { return known }
        let terms = Terms.of(phrase)
        let scores = documents.map { bm25(terms, in: $0) }
        cache.store(phrase, scores)
        return scores
    }

    /// BM25 of a phrase in one paper when every word of it is there, else `nil`: a phrase is
    /// an interest in all of it, and "graph neural networks" should not match every paper
    /// that says "neural".
    func bm25(_ phrase: [Substring], in document: Document) -> Double? {
        guard !phrase.isEmpty else { return nil }
        let k1 = 1.2
        let b = 0.75
        var score = 0.0
        for term in phrase {
            guard let count = document.termCounts[term] else { return nil }
            let n = Double(documents.count)
            let df = Double(documentFrequency[term] ?? 0)
            let idf = log(1 + (n - df + 0.5) / (df + 0.5))
            let tf = Double(count)
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * Double(document.length) / averageLength))
        }
        return score
    }
}

/// Phrases already scored against the day's papers, followed authors already read, and the
/// papers of each set of categories:
/// readers share most of them, so each is worked out once per day however many readers are
/// ranked.
final class PhraseCache: Sendable {
    private let known = Mutex<[String: [Double?]]>([:])
    private let authors = Mutex<[String: AuthorName?]>([:])
    private let papers = Mutex<[[String]: [Int]]>([:])

    /// The papers in a set of categories: readers share a few sets between them.
    func candidates(_ categories: [String], in index: DayIndex) -> [Int] {
        if let known = papers.withLock({ $0[categories] }) { return known }
        let found = index.papers(in: categories)
        papers.withLock { $0[categories] = found }
        return found
    }

    func author(_ name: String) -> AuthorName? {
        if let known = authors.withLock({ $0[name] }) { return known }
        let made = AuthorName(name)
        authors.withLock { $0[name] = made }
        return made
    }

    func scores(_ phrase: String) -> [Double?]? {
        known.withLock { $0[phrase] }
    }

    func store(_ phrase: String, _ scores: [Double?]) {
        known.withLock { $0[phrase] = scores }
    }
}
