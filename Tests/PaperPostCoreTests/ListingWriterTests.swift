import PaperPostCore
import Testing

@Suite("Listings written as their rows come")
struct ListingWriterTests {
    static func listing(_ count: Int) -> Listing {
        var listing = Listing(columns: ["id", "email", "note", "categories", "score"])
        for index in 0..<count {
            listing.append([
                .number(index), .text("reader\(index)@example.com"), .text(index % 3 == 0 ? nil : "a \"quoted\", note\nover two lines"),
                .list(index % 2 == 0 ? ["cs.AI", "cs.LG"] : []), .decimal(Double(index) / 4),
            ])
        }
        return listing
    }

    @Test("CSV, JSON and the table come out exactly as the whole listing renders them, at any batch boundary",
          arguments: [0, 1, 999, 1_000, 1_001, 2_500])
    func sameText(count: Int) {
        let listing = Self.listing(count)
        for format in OutputFormat.allCases {
            var text = ""
            var chunks = 0
            var writer = ListingWriter(columns: listing.columns, format: format) { text += $0; chunks += 1 }
            for row in listing.rows { writer.append(row) }
            writer.finish()
            #expect(text == listing.rendered(as: format), "\(format), \(count) rows")
            if format != .table && count > 1_000 {
                #expect(chunks > 1, "\(format) is written in batches")
            }
        }
    }
}
