/// cmark's HTML with the inline styles email clients need (many ignore `<style>` blocks).
/// Raw HTML is off in cmark, so every tag here is one cmark wrote and the tags are known.
enum EmailHTML {
    static let styles: [(tag: String, style: String)] = [
        ("h1", "font-size:22px;line-height:1.3;margin:0 0 12px;"),
        ("h2", "font-size:18px;line-height:1.3;margin:24px 0 8px;"),
        ("h3", "font-size:16px;line-height:1.4;margin:16px 0 6px;"),
        ("p", "margin:0 0 12px;"),
        ("blockquote", "margin:0 0 12px;padding:8px 12px;border-left:3px solid #d0d7de;background:#f6f8fa;color:#57606a;"),
        ("table", "width:100%;border-collapse:collapse;font-size:14px;line-height:1.5;"),
        ("th", "padding:6px 4px;border-bottom:2px solid #d0d7de;text-align:left;vertical-align:bottom;"),
        ("td", "padding:6px 4px;border-bottom:1px solid #eaeef2;vertical-align:top;"),
        ("code", "font-family:Menlo,Consolas,monospace;font-size:12px;background:#eef1f4;color:#1f2328;padding:1px 4px;border-radius:3px;"),
        ("ul", "margin:0 0 12px;padding-left:20px;"),
        ("ol", "margin:0 0 12px;padding-left:20px;"),
    ]

    /// One pass over the bytes rather than a search and a copy of the whole page per tag: a
    /// send prepares an edition per (categories, language) pair before its first message.
    static func styled(_ html: String) -> String {
        let input = Array(html.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 2)
        var index = 0
        while index < input.count {
            let byte = input[index]
            index += 1
            output.append(byte)
            guard byte == UInt8(ascii: "<") else { continue }
            var end = index
            while end < input.count, isTagNameByte(input[end]) { end += 1 }
            guard end > index else { continue }
            let name = input[index..<end]
            let rest = input[end...]
            if let style = byteStyles[Array(name)] {
                // Tags cmark already styled (table cell alignment) get the style prepended.
                if rest.starts(with: styleAttribute) {
                    output += name
                    output += styleAttribute
                    output += style
                    index = end + styleAttribute.count
                } else if rest.first == UInt8(ascii: ">") {
                    output += name
                    output += styleAttribute
                    output += style
                    output += #"">"#.utf8
                    index = end + 1
                }
            } else if name.elementsEqual("hr".utf8), rest.starts(with: " />".utf8) {
                output += #"hr style="border:none;border-top:1px solid #d0d7de;margin:20px 0;" />"#.utf8
                index = end + 3
            } else if name.elementsEqual("a".utf8), rest.starts(with: " href=".utf8) {
                output += #"a style="color:#0969da;" href="#.utf8
                index = end + 6
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static let byteStyles = Dictionary(uniqueKeysWithValues: styles.map { (Array($0.tag.utf8), Array($0.style.utf8)) })
    private static let styleAttribute = Array(#" style=""#.utf8)

    private static func isTagNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
