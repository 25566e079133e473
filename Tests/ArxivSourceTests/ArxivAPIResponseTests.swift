import ArxivSource
import Foundation
import PaperPostCore
import Testing

@Suite("The arXiv export API response")
struct ArxivAPIResponseTests {
    func response(_ name: String) throws -> ArxivAPIResponse {
        try ArxivAPIResponse.parse(try Fixture.data(name))
    }

    // MARK: Paging

    @Test(
        "Each page of search_query=testing has arXiv's totals and as many entries as it asked for",
        arguments: [
            ("q_testing_s0_m10.atom", 0, 10), ("q_testing_s0_m15.atom", 0, 15), ("q_testing_s0_m100.atom", 0, 100),
            ("q_testing_s5_m10.atom", 5, 10), ("q_testing_s5_m15.atom", 5, 15), ("q_testing_s9_m15.atom", 9, 15),
            ("q_testing_s10_m10.atom", 10, 10), ("q_testing_s20_m10.atom", 20, 10),
            ("q_testing_s30_m10.atom", 30, 10), ("q_testing_s40_m10.atom", 40, 10),
            ("q_testing_s50_m10.atom", 50, 10),
        ])
    func pageTotals(name: String, start: Int, perPage: Int) throws {
        let page = try response(name)
        #expect(page.totalResults == 214_881)
        #expect(page.startIndex == start)
        #expect(page.itemsPerPage == perPage)
        #expect(page.papers.count == perPage)
        #expect(page.papers.allSatisfy { $0.enriched && $0.version >= 1 && !$0.categories.isEmpty })
    }

    @Test(
        "Every smaller page holds exactly the papers at its offset in the 100-entry page",
        arguments: [
            "q_testing_s0_m10.atom", "q_testing_s0_m15.atom", "q_testing_s5_m10.atom", "q_testing_s5_m15.atom",
            "q_testing_s9_m15.atom", "q_testing_s10_m10.atom", "q_testing_s20_m10.atom", "q_testing_s30_m10.atom",
            "q_testing_s40_m10.atom", "q_testing_s50_m10.atom",
        ])
    func pagesAgree(name: String) throws {
        let all = try response("q_testing_s0_m100.atom").papers
        let page = try response(name)
        #expect(page.papers == Array(all[page.startIndex..<(page.startIndex + page.papers.count)]))
    }

    @Test("The 100-entry page has 100 distinct papers, from the first to the last entry of the file")
    func hundredEntries() throws {
        let papers = try response("q_testing_s0_m100.atom").papers
        #expect(papers.count == 100)
        #expect(Set(papers.map(\.id)).count == 100)
        #expect(papers.first?.id == "2202.12139")
        #expect(papers.last?.id == "gr-qc/0103067")
    }

    // MARK: Fields

    @Test("The first search result is read field by field")
    func firstSearchResult() throws {
        let paper = try #require(try response("q_testing_s0_m100.atom").papers.first)
        #expect(paper.id == "2202.12139")
        #expect(paper.version == 1)
        #expect(paper.title == "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques")
        #expect(paper.authors == ["Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker"])
        #expect(paper.categories == ["cs.SE", "cs.LG"])
        #expect(paper.abstract.hasPrefix("Deep Learning (DL) has revolutionized the capabilities of vision-based"))
        #expect(paper.abstract.hasSuffix("We also provide a first experimental comparative study on a classical benchmark used in VBS and discuss its results."))
        #expect(paper.published == utc(2022, 2, 24, 15, 5, 19))
        #expect(paper.updated == utc(2022, 2, 24, 15, 5, 19))
        #expect(paper.comment == "Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022")
        #expect(paper.journalRef == "Artificial Intelligence in Software Testing @ 2022 IEEE International Conference on Software Testing, Verification and Validation Workshops (ICSTW)")
        #expect(paper.doi == "10.1109/ICSTW55395.2022.00035")
        #expect(paper.enriched)
    }

    @Test("An old-style id in search results keeps its archive, and a second version is read")
    func oldStyleSearchResults() throws {
        let papers = try response("q_testing_s0_m100.atom").papers
        let anarchy = try #require(papers.first { $0.id == "hep-ph/0301050" })
        #expect(anarchy.version == 2)
        #expect(anarchy.title == "Statistical Test of Anarchy")
        #expect(anarchy.published == utc(2003, 1, 8, 20, 15, 43))
        #expect(anarchy.updated == utc(2003, 6, 30, 3, 20, 20))
        #expect(anarchy.journalRef == "Phys.Lett.B573:94-100,2003")
        #expect(anarchy.abstract.hasPrefix(#""Anarchy" is the hypothesis"#))
        #expect(papers.contains { $0.id == "cs/0503050" && $0.version == 1 })

        let last = try #require(papers.last)
        #expect(last.title == "Principles of Equivalence: Their Role in Gravitation Physics and Experiments that Test Them")
        // The recording has these names double-encoded (UTF-8 read as Latin-1); they are passed on as sent.
        #expect(last.authors == ["Mark P. Haugan", "C. LÃ¤mmerzahl"])
        #expect(last.journalRef == "Lect.Notes Phys.562:195-212,2001")
        #expect(last.doi == "10.1007/3-540-40988-2_10")
        #expect(last.abstract.hasPrefix("Modern formulations of equivalence principles provide"))
    }

    @Test("astro-ph/0601001 is read with its journal reference, entities decoded and no DOI")
    func astroPh() throws {
        let page = try response("id_astro-ph_0601001_s0_m100.atom")
        #expect(page.totalResults == 1)
        let paper = try #require(page.papers.first)
        #expect(paper.id == "astro-ph/0601001")
        #expect(paper.version == 1)
        #expect(paper.absURL == "https://arxiv.org/abs/astro-ph/0601001v1")
        #expect(paper.title == "Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys Toward the Galactic Bulge and Carina")
        #expect(paper.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"])
        #expect(paper.categories == ["astro-ph"])
        #expect(paper.abstract.hasPrefix("We derive the frequencies of hot Jupiters (HJs) with 3--5 day periods"))
        #expect(paper.abstract.contains("following Gould & Morgan (2003)"))
        #expect(paper.abstract.contains("limit of V_max<17.5."))
        #expect(paper.abstract.contains("(1/310)(1^{+1.39}_{-0.59})"))
        #expect(paper.comment == "62 pages including 16 figures and 9 tables. Submitted to Acta Astronomica. Full resolution version at http://www.astronomy.ohio-state.edu/~gould/ogle_hot_jupiters.ps.gz")
        #expect(paper.journalRef == "ActaAstron.56:1-50,2006")
        #expect(paper.doi == nil)
        #expect(paper.published == utc(2006, 1, 2, 14, 57, 58))
    }

    @Test("quant-ph/0201082v1 is read with its primary category first and its cross-list")
    func quantPh() throws {
        let paper = try #require(try response("id_quant-ph_0201082v1_s0_m100.atom").papers.first)
        #expect(paper.id == "quant-ph/0201082")
        #expect(paper.version == 1)
        #expect(paper.title == "Quantum Computers and Quantum Computer Languages: Quantum Assembly Language and Quantum C Language")
        #expect(paper.authors == ["Stephen Blaha"])
        #expect(paper.categories == ["quant-ph", "cs.PL"])
        #expect(paper.comment == "32 pages")
        #expect(paper.journalRef == nil)
        #expect(paper.published == utc(2002, 1, 18, 15, 8, 5))
    }

    @Test("The pair look-up returns only the paper that exists, the same as its single look-up")
    func pairLookup() throws {
        let pair = try response("id_0808.05394_1707.08567_s0_m100.atom")
        #expect(pair.totalResults == 1)
        #expect(pair.startIndex == 0)
        #expect(pair.itemsPerPage == 100)
        let paper = try #require(pair.papers.first)
        #expect(pair.papers.map(\.id) == ["1707.08567"])
        #expect(paper.title == "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications")
        #expect(paper.authors.count == 34)
        #expect(paper.authors.first == "Kees A. Schouhamer Immink")
        #expect(paper.authors[4] == "Peter H. N. de With")
        #expect(paper.authors.last == "Hirosuke Yamamoto")
        #expect(paper.categories == ["cs.IT"])
        #expect(paper.comment == "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck")
        #expect(try response("id_1707.08567_s0_m100.atom").papers == pair.papers)
    }

    @Test("A title that is only a number stays the text it is")
    func numericTitle() throws {
        let paper = try #require(try response("id_2104.12255v1_s0_m100.atom").papers.first)
        #expect(paper.id == "2104.12255")
        #expect(paper.title == "0")
        #expect(paper.categories == ["cs.CR"])
        #expect(paper.comment == nil)
        #expect(paper.abstract.hasPrefix("What is the funniest number in cryptography? 0."))
    }

    @Test("Two categories of a math paper keep their order after the primary")
    func mathPaper() throws {
        let paper = try #require(try response("id_1605.08386_s0_m100.atom").papers.first)
        #expect(paper.title == "Heat-bath random walks with Markov bases")
        #expect(paper.authors == ["Caprice Stanley", "Tobias Windisch"])
        #expect(paper.categories == ["math.CO", "math.ST"])
        #expect(paper.comment == "20 pages, 3 figures")
    }

    @Test("A look-up of ids that do not exist is a valid empty response", arguments: [
        "id_0000.0000_s0_m100.atom", "id_0808.05394_s0_m100.atom",
    ])
    func emptyResult(name: String) throws {
        let page = try response(name)
        #expect(page.totalResults == 0)
        #expect(page.startIndex == 0)
        #expect(page.itemsPerPage == 100)
        #expect(page.papers.isEmpty)
    }

    @Test("arXiv's error feed throws its message")
    func errorFeed() throws {
        let data = try Fixture.data("id_abc_s0_m100.atom")
        #expect(throws: ArxivParseError.apiError(message: "incorrect id format for abc")) {
            try ArxivAPIResponse.parse(data)
        }
    }

    // MARK: Variants of the real documents

    @Test("An https id and a primary category with a scheme, listed last, still put the primary first")
    func httpsIDAndSchemedPrimary() throws {
        let data = try Fixture.data("id_quant-ph_0201082v1_s0_m100.atom", replacing: [
            "<id>http://arxiv.org/abs/quant-ph/0201082v1</id>": "<id>https://arxiv.org/abs/quant-ph/0201082v1</id>",
            #"<arxiv:primary_category term="quant-ph"/>"#:
                #"<arxiv:primary_category term="cs.PL" scheme="http://arxiv.org/schemas/atom"/>"#,
        ])
        let paper = try #require(try ArxivAPIResponse.parse(data).papers.first)
        #expect(paper.id == "quant-ph/0201082")
        #expect(paper.categories == ["cs.PL", "quant-ph"])
    }

    @Test("Blank optional fields are nil and wrapped text is joined with single spaces")
    func blanksAndWrapping() throws {
        let data = try Fixture.data("id_quant-ph_0201082v1_s0_m100.atom", replacing: [
            "<arxiv:comment>32 pages</arxiv:comment>":
                "<arxiv:comment>  \n </arxiv:comment><arxiv:doi></arxiv:doi><arxiv:journal_ref/>",
            "Quantum Computers and Quantum Computer Languages:": "Quantum Computers and\n      Quantum Computer\tLanguages:",
        ])
        let paper = try #require(try ArxivAPIResponse.parse(data).papers.first)
        #expect(paper.comment == nil)
        #expect(paper.doi == nil)
        #expect(paper.journalRef == nil)
        #expect(paper.title == "Quantum Computers and Quantum Computer Languages: Quantum Assembly Language and Quantum C Language")
    }

    @Test("Elements are matched by namespace, not by the prefix a document happens to use")
    func otherPrefixes() throws {
        let original = try response("id_astro-ph_0601001_s0_m100.atom")
        let data = try Fixture.data("id_astro-ph_0601001_s0_m100.atom", replacing: [
            "arxiv:": "ax:", "xmlns:arxiv=": "xmlns:ax=", "opensearch:": "os:", "xmlns:opensearch=": "xmlns:os=",
        ])
        let renamed = try ArxivAPIResponse.parse(data)
        #expect(renamed.papers == original.papers)
        #expect(renamed.papers.first?.journalRef == "ActaAstron.56:1-50,2006")
        #expect(renamed.totalResults == 1)
    }

    @Test("An entry without an id is an error at the entry's line")
    func entryWithoutID() throws {
        let data = try Fixture.data("id_quant-ph_0201082v1_s0_m100.atom", replacing: [
            "<id>http://arxiv.org/abs/quant-ph/0201082v1</id>": "",
        ])
        #expect(throws: ArxivParseError.invalidEntry(line: 10, reason: "an entry without an <id>")) {
            try ArxivAPIResponse.parse(data)
        }
    }

    @Test("An unreadable date is an error naming the value, not a missing date")
    func unreadableDate() throws {
        let data = try Fixture.data("id_quant-ph_0201082v1_s0_m100.atom", replacing: [
            "<published>2002-01-18T15:08:05Z</published>": "<published>18 January 2002</published>",
        ])
        #expect(throws: ArxivParseError.invalidEntry(
            line: 19, reason: "unreadable <published> date '18 January 2002' of entry quant-ph/0201082")
        ) {
            try ArxivAPIResponse.parse(data)
        }
    }

    // MARK: Documents that are not API responses

    @Test("A response cut in half is malformed XML at a line near the cut")
    func truncatedResponse() throws {
        let (data, lastLine) = try Fixture.truncated("q_testing_s0_m100.atom")
        let error = try #require(#expect(throws: ArxivParseError.self) { try ArxivAPIResponse.parse(data) })
        guard case let .malformed(line, column, reason) = error else {
            Issue.record("expected malformed, got \(error)")
            return
        }
        #expect(lastLine > 1000)
        #expect((lastLine - 1)...lastLine ~= line)
        #expect(column >= 1)
        #expect(reason.contains("truncated"))
        #expect(error.description.hasPrefix("malformed XML at line \(line), column \(column): "))
    }

    @Test("A body that is not XML is malformed at line 1", arguments: [
        Data("Service Unavailable\n".utf8),
        Data((0..<256).map { UInt8(($0 * 37 + 11) % 256) }),
    ])
    func notXML(data: Data) throws {
        let error = try #require(#expect(throws: ArxivParseError.self) { try ArxivAPIResponse.parse(data) })
        guard case let .malformed(line, _, _) = error else {
            Issue.record("expected malformed, got \(error)")
            return
        }
        #expect(line == 1)
    }

    @Test("An empty body is malformed, not an empty response")
    func emptyBody() {
        #expect(throws: ArxivParseError.malformed(line: 1, column: 1, reason: "the document is empty")) {
            try ArxivAPIResponse.parse(Data())
        }
    }

    @Test("Broken nesting is malformed at the line of the bad closing tag")
    func brokenNesting() throws {
        let data = try Fixture.data("id_quant-ph_0201082v1_s0_m100.atom", replacing: ["</title>\n    <updated>2002": "</titel>\n    <updated>2002"])
        let error = try #require(#expect(throws: ArxivParseError.self) { try ArxivAPIResponse.parse(data) })
        guard case let .malformed(line, _, _) = error else {
            Issue.record("expected malformed, got \(error)")
            return
        }
        #expect(line == 12)
    }

    @Test("The announcement feed is not taken for an API response")
    func feedIsWrongKind() throws {
        let data = try Fixture.data("cs.AI-2025-08-20.atom")
        #expect(throws: ArxivParseError.notArxivDocument(
            reason: "it has no opensearch:totalResults; not an arXiv API response")
        ) {
            try ArxivAPIResponse.parse(data)
        }
    }

    @Test("A well-formed HTML page is not an arXiv document")
    func htmlPage() {
        let html = Data("<html><head><title>503</title></head><body><h1>Service Unavailable</h1></body></html>".utf8)
        #expect(throws: ArxivParseError.notArxivDocument(reason: "the root element is <html>, expected an Atom <feed>")) {
            try ArxivAPIResponse.parse(html)
        }
    }

    @Test("Errors read well to an operator")
    func descriptions() {
        #expect(ArxivParseError.malformed(line: 12, column: 3, reason: "a closing tag does not match").description
            == "malformed XML at line 12, column 3: a closing tag does not match")
        #expect(ArxivParseError.invalidEntry(line: 8, reason: "entry 2508.1 has no version").description
            == "invalid arXiv entry at line 8: entry 2508.1 has no version")
        #expect(ArxivParseError.apiError(message: "incorrect id format for abc").description
            == "the arXiv API reported an error: incorrect id format for abc")
        #expect(ArxivParseError.notArxivDocument(reason: "the root element is <html>").description
            == "not an arXiv document of the expected kind: the root element is <html>")
    }
}
