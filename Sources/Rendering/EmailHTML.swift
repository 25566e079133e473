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

    static func styled(_ html: String) -> String {
        var result = html
        for (tag, style) in styles {
            // Tags cmark already styled (table cell alignment) first, then bare ones.
            result = result.replacingOccurrences(of: "<\(tag) style=\"", with: "<\(tag) style=\"\(style)")
            result = result.replacingOccurrences(of: "<\(tag)>", with: "<\(tag) style=\"\(style)\">")
        }
        return result
            .replacingOccurrences(of: "<hr />", with: "<hr style=\"border:none;border-top:1px solid #d0d7de;margin:20px 0;\" />")
            .replacingOccurrences(of: "<a href=", with: "<a style=\"color:#0969da;\" href=")
    }
}
