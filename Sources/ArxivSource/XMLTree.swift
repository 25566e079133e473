import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element name with its namespace, so that `arxiv:comment` matches however a document binds the
/// prefix (the 2026 API declares every namespace on the root, older responses declared them inline).
struct QualifiedName: Hashable, Sendable {
    var namespace: String
    var name: String

    static func atom(_ name: String) -> Self { Self(namespace: "http://www.w3.org/2005/Atom", name: name) }
    static func arxiv(_ name: String) -> Self { Self(namespace: "http://arxiv.org/schemas/atom", name: name) }
    static func openSearch(_ name: String) -> Self { Self(namespace: "http://a9.com/-/spec/opensearch/1.1/", name: name) }
    static func dublinCore(_ name: String) -> Self { Self(namespace: "http://purl.org/dc/elements/1.1/", name: name) }
}

/// One element of a parsed document, kept in memory whole.
///
/// Both document kinds are small (a feed is tens of entries, an API page at most a few thousand) and
/// reading them into a tree first lets each parser be a plain mapping over elements, instead of a
/// state machine per kind repeating the same XMLParser bookkeeping.
struct XMLElementNode: Sendable {
    var name: QualifiedName
    var attributes: [String: String]
    /// The element's character data; for elements with children this includes the indentation between them.
    var text: String
    var children: [XMLElementNode]
    /// Where the start tag is, to point an operator at the offending entry.
    var line: Int

    func first(_ name: QualifiedName) -> XMLElementNode? {
        children.first { $0.name == name }
    }

    func all(_ name: QualifiedName) -> [XMLElementNode] {
        children.filter { $0.name == name }
    }

    /// The text of the first such child with white space normalised, nil when absent or blank.
    func value(of name: QualifiedName) -> String? {
        first(name)?.text.nonBlankNormalized()
    }

    /// Checks the document is an Atom feed, so that an HTML error page or an RSS 2.0 feed from a
    /// mistyped URL is reported as such rather than as a feed without entries.
    func requireAtomFeed() throws(ArxivParseError) {
        guard name != .atom("feed") else { return }
        if name.name == "rss" {
            throw .notArxivDocument(reason: "this is an RSS 2.0 document (<rss>), expected an Atom <feed>")
        }
        if name.name == "feed" {
            let namespace = name.namespace.isEmpty ? "no namespace" : "namespace \(name.namespace)"
            throw .notArxivDocument(reason: "the root <feed> is in \(namespace), not the Atom namespace")
        }
        throw .notArxivDocument(reason: "the root element is <\(name.name)>, expected an Atom <feed>")
    }
}

enum XMLTree {
    /// The deepest nesting accepted. arXiv's feeds and API pages are under 10 deep; the bound keeps a
    /// hostile document from building a tree whose (recursive) destruction would overflow the stack.
    static let maxDepth = 256

    /// Parses `data` into its root element, turning every way XMLParser can fail into an error with a
    /// position: on Linux a truncated document makes `parse()` return true (the error only reaches the
    /// delegate) and empty data produces neither an error nor an element.
    static func root(of data: Data) throws(ArxivParseError) -> XMLElementNode {
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        // Documents come from the network: never fetch a DTD or external entity they name.
        parser.shouldResolveExternalEntities = false
        let builder = TreeBuilder(maxDepth: maxDepth)
        parser.delegate = builder
        let completed = parser.parse()

        if let failure = builder.failure { throw failure }
        if !completed {
            throw .malformed(
                line: max(parser.lineNumber, 1), column: max(parser.columnNumber, 1),
                reason: describe(parser.parserError))
        }
        if let open = builder.openElement {
            throw .malformed(
                line: max(parser.lineNumber, 1), column: max(parser.columnNumber, 1),
                reason: "the document ends inside <\(open)>; it is probably truncated")
        }
        guard let root = builder.root else {
            throw .malformed(line: 1, column: 1, reason: "the document is empty")
        }
        return root
    }

    fileprivate static func describe(_ error: (any Error)?) -> String {
        guard let error else { return "XMLParser stopped without giving a reason" }
        let nsError = error as NSError
        guard nsError.domain == XMLParser.errorDomain else { return nsError.localizedDescription }
        // Linux gives only the code, macOS adds libxml2's message; keep the latter when there is one.
        let detail = (nsError.userInfo["NSXMLParserErrorMessage"] as? String)?.nonBlankNormalized()
        let reason = describe(code: nsError.code)
        return detail.map { "\(reason) (\($0))" } ?? reason
    }

    /// The codes are libxml2's `xmlParserErrors`, which both platforms pass through (Apple's
    /// `XMLParser.ErrorCode` has the same numbers). They are matched as numbers because
    /// swift-corelibs-foundation's `XMLParser.ErrorCode` is numbered one lower, so
    /// `ErrorCode(rawValue:)` names the wrong error on Linux.
    private static func describe(code: Int) -> String {
        switch code {
        case 3, 4:
            "no XML element where the document should start; the body is not XML"
        case 5:
            "the document does not end where its root element does; it is probably truncated"
        case 9:
            "a character that XML does not allow, or bytes that are not valid UTF-8"
        case 22, 23, 68:
            "a bare '&' or '<', or a tag or entity without a name"
        case 26:
            "an undefined entity reference such as &nbsp;"
        case 31, 32, 79, 81:
            "text that is not in the declared encoding"
        case 38...42:
            "a garbled attribute"
        case 72, 73, 74, 77:
            "an unfinished or garbled tag"
        case 76:
            "a closing tag does not match the element it closes"
        case 85:
            "the elements are not properly nested"
        case 86:
            "there is content after the root element"
        case 89:
            "a recursive entity"
        default:
            "XML parser error \(code)"
        }
    }
}

/// Keeps the open elements on a stack and closes each into its parent, so that the tree is complete
/// exactly when the document is well formed.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    private let maxDepth: Int
    private var stack: [XMLElementNode] = []
    private(set) var root: XMLElementNode?
    /// The first error only: after it libxml2 may report follow-on errors that describe its recovery.
    private(set) var failure: ArxivParseError?

    var openElement: String? { stack.last?.name.name }

    init(maxDepth: Int) {
        self.maxDepth = maxDepth
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        guard failure == nil else { return }
        guard stack.count < maxDepth else {
            failure = .tooDeep(line: max(parser.lineNumber, 1), maxDepth: maxDepth)
            parser.abortParsing()
            return
        }
        stack.append(XMLElementNode(
            name: QualifiedName(namespace: namespaceURI ?? "", name: elementName),
            attributes: attributeDict, text: "", children: [], line: parser.lineNumber))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard failure == nil, !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard failure == nil, !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        guard failure == nil, let element = stack.popLast() else { return }
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        guard failure == nil else { return }
        failure = .malformed(
            line: max(parser.lineNumber, 1), column: max(parser.columnNumber, 1),
            reason: XMLTree.describe(parseError))
        parser.abortParsing()
    }
}
