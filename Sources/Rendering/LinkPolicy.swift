/// Which link destinations may survive rendering Markdown to HTML. Every link or image whose
/// destination another policy would refuse is replaced by its own text, so nothing a title,
/// an abstract or the model's answer says can become a link even if it got past the escaping.
public struct LinkPolicy: Sendable {
    /// A destination is kept when it starts with one of these (each ends in `/`, so that
    /// `https://arxiv.org.evil.example` is not `https://arxiv.org`).
    public let prefixes: [String]

    public init(prefixes: [String]) {
        self.prefixes = prefixes
    }

    /// arXiv's abstract pages: the only links in a digest.
    public static let arxivAbstracts = LinkPolicy(prefixes: ["https://arxiv.org/abs/"])

    /// arXiv's abstract pages and this site's own pages under `baseURL`.
    public static func arxivAbstracts(andSite baseURL: String) -> LinkPolicy {
        LinkPolicy(prefixes: arxivAbstracts.prefixes + [baseURL.hasSuffix("/") ? baseURL : baseURL + "/"])
    }

    /// Every destination cmark itself allows, for Markdown that is entirely trusted.
    static let unrestricted = LinkPolicy(prefixes: [""])

    public func allows(_ destination: String) -> Bool {
        prefixes.contains { destination.hasPrefix($0) }
    }
}
