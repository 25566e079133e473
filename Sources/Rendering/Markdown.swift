import CCmark
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Markdown → HTML and plain text with cmark-gfm and its table and strikethrough extensions.
///
/// The autolink extension is deliberately not attached: it turns any `http://…`, `www.…` or email
/// address in the text into a link, and the text comes from arXiv and the model. The only links are
/// the ones written as Markdown links or `<…>` autolinks, which untrusted text cannot write (it is
/// escaped), and in HTML only those a ``LinkPolicy`` allows.
///
/// Both functions are safe to call from any thread. cmark-gfm 0.29.0.gfm.6 is *not* re-entrant while
/// parsing: every parser that has inline extensions (strikethrough, and the table extension when it
/// parses cell contents) adds its special characters to, and afterwards removes them from, one
/// process-wide table (`SPECIAL_CHARS` in inlines.c). Two parses running at once can therefore lose
/// `~~…~~`. So every parse and render goes through one lock; a render takes microseconds.
/// Nothing else in the process may call cmark-gfm's parser without that lock.
public enum Markdown {
    /// HTML fragment. Raw HTML in the input never passes through: it is omitted (cmark's safe mode; do NOT pass CMARK_OPT_UNSAFE), and dangerous URLs (javascript:, vbscript:, file:, data: except images) are blanked, which is cmark's default. Tables render as <table>. Smart punctuation OFF.
    ///
    /// A link or image whose destination `links` does not allow is replaced by its text (an
    /// image by its description), so the HTML holds no `<a>` or `<img>` pointing anywhere else.
    public static func html(_ markdown: String, links: LinkPolicy = .arxivAbstracts) -> String {
        render(markdown, options: htmlOptions) { document, extensions in
            unlink(document, refusedBy: links)
            return cmark_render_html(document, htmlOptions, extensions)
        }
    }

    /// Replaces every link and image `policy` refuses by its children, in place.
    private static func unlink(_ document: OpaquePointer, refusedBy policy: LinkPolicy) {
        guard let iterator = cmark_iter_new(document) else { return }
        var refused: [OpaquePointer] = []
        while case let event = cmark_iter_next(iterator), event != CMARK_EVENT_DONE {
            guard event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iterator) else { continue }
            let type = cmark_node_get_type(node)
            guard type == CMARK_NODE_LINK || type == CMARK_NODE_IMAGE else { continue }
            let destination = cmark_node_get_url(node).map { String(cString: $0) } ?? ""
            if !policy.allows(destination) { refused.append(node) }
        }
        cmark_iter_free(iterator)
        // After the walk, since moving nodes would confuse the iterator. Links never nest, and a
        // refused image inside a refused link moves out with the link's other children.
        for node in refused {
            while let child = cmark_node_first_child(node) {
                // Inserting a node first unlinks it from where it was.
                cmark_node_insert_before(node, child)
            }
            // Unlinks the (now empty) node from the tree and frees it.
            cmark_node_free(node)
        }
    }

    /// Plain text with Markdown syntax and backslash escapes removed, no line wrapping (width 0).
    public static func plainText(_ markdown: String) -> String {
        render(markdown, options: plainTextOptions) { document, _ in
            cmark_render_plaintext(document, plainTextOptions, 0)
        }
    }

    /// Safe mode (the default: raw HTML omitted, dangerous URLs blanked), table cell alignment as
    /// `style="text-align: …"` rather than the `align=` attribute email clients handle badly, and
    /// strikethrough only with two tildes, so that arXiv's "~10x" / "~5%" never turns into `<del>`.
    private static let htmlOptions: Int32 =
        CMARK_OPT_DEFAULT | CMARK_OPT_TABLE_PREFER_STYLE_ATTRIBUTES | CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE

    /// The same parse as for HTML, so both renderings of one input agree on what is strikethrough.
    private static let plainTextOptions: Int32 =
        CMARK_OPT_DEFAULT | CMARK_OPT_NOBREAKS | CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE

    /// The names of the extensions attached to every parser. Not "autolink": see ``Markdown``.
    static let extensionNames = ["table", "strikethrough"]

    /// Parses `markdown` with the extensions attached, hands the document and the parser's extension
    /// list to `renderer`, and frees the parser, the document and the rendered C string.
    private static func render(
        _ markdown: String,
        options: Int32,
        with renderer: (OpaquePointer, UnsafeMutablePointer<cmark_llist>?) -> UnsafeMutablePointer<CChar>?
    ) -> String {
        cmark.withLock { (engine: inout Engine) -> String in
            guard let parser = cmark_parser_new(options) else { return "" }
            // The parser owns its extension list (freed by cmark_parser_free, which does not free the
            // extensions themselves: they live in cmark's global registry for the life of the process).
            defer { cmark_parser_free(parser) }
            for extension_ in engine.extensions {
                cmark_parser_attach_syntax_extension(parser, extension_)
            }
            var text = markdown
            text.withUTF8 { bytes in
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
                base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
                    cmark_parser_feed(parser, chars, bytes.count)
                }
            }
            // The finished document belongs to the caller, not to the parser.
            guard let document = cmark_parser_finish(parser) else { return "" }
            defer { cmark_node_free(document) }
            // Rendered with cmark's default allocator (calloc/realloc), so released with free().
            guard let rendered = renderer(document, cmark_parser_get_syntax_extensions(parser)) else { return "" }
            defer { free(rendered) }
            return String(cString: rendered)
        }
    }
}

/// cmark-gfm's syntax extensions, looked up once. Only ever used under the lock in `cmark`.
private struct Engine {
    let extensions: [OpaquePointer]

    init() {
        // Registration appends to cmark's global plugin registry guarded only by an unsynchronised
        // `static int`; running it inside the lazy, once-only initialiser of `cmark` makes it happen
        // exactly once no matter how many threads render first.
        cmark_gfm_core_extensions_ensure_registered()
        extensions = Markdown.extensionNames.compactMap { name in
            let found = cmark_find_syntax_extension(name)
            assert(found != nil, "cmark-gfm has no \(name) extension")
            return found
        }
    }
}

/// The one lock every use of cmark-gfm goes through (see `Markdown`).
private let cmark = Mutex(Engine())
