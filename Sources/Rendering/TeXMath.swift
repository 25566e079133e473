extension String {
    /// The common math of arXiv titles and abstracts as Unicode text, for readers who do not
    /// read TeX: `$1.13\times$` → `1.13×`, `$O(n^2)$` → `O(n²)`, `$\alpha$-divergence` →
    /// `α-divergence`, `\frac{1}{2}` → `1/2`. Dollar signs and grouping braces go; a command it
    /// does not know keeps its name without the backslash. Text without `$` or `\` is returned as it is.
    var decodingTeXMath: String {
        // By byte: `contains("$")` resolves to Foundation's substring search, and this runs on
        // every title and summary field each time an edition's pieces are rendered.
        guard utf8.contains(where: { $0 == UInt8(ascii: "$") || $0 == UInt8(ascii: "\\") }) else { return self }
        var parser = TeXMathParser(Array(self))
        return parser.text(until: nil)
    }
}

private struct TeXMathParser {
    var characters: [Character]
    var index = 0
    var inMath = false

    init(_ characters: [Character]) {
        self.characters = characters
    }

    var current: Character? { index < characters.count ? characters[index] : nil }

    /// Text up to `end` (a closing brace) or the end.
    mutating func text(until end: Character?) -> String {
        var output = ""
        while let character = current {
            if character == end { index += 1; return output }
            index += 1
            switch character {
            case "$":
                inMath.toggle()
            case "\\":
                output += command()
            case "{":
                output += text(until: "}")
            case "}":
                continue
            case "^" where inMath:
                output += script(Self.superscripts, marker: "^")
            case "_" where inMath:
                output += script(Self.subscripts, marker: "_")
            case "~" where inMath:
                output += " "
            default:
                output.append(character)
            }
        }
        return output
    }

    /// After a backslash.
    mutating func command() -> String {
        guard let first = current else { return "\\" }
        guard first.isLetter else {
            index += 1
            // `\%`, `\&`, `\_`, `\$`, `\{`: the character itself; `\,` and `\;`: a space.
            return [",", ";", ":", " ", "!"].contains(first) ? (first == "!" ? "" : " ") : String(first)
        }
        var name = ""
        while let character = current, character.isLetter {
            name.append(character)
            index += 1
        }
        if Self.styles.contains(name) { return argument() }
        if name == "frac" || name == "tfrac" || name == "dfrac" {
            let numerator = argument()
            let denominator = argument()
            return "\(numerator)/\(denominator)"
        }
        if name == "sqrt" { return "√" + argument() }
        // Spaces after a command stay: `k \geq 2` reads "k ≥ 2", not "k ≥2".
        if let symbol = Self.symbols[name] { return symbol }
        return name
    }

    /// One argument: a braced group, a command, or one character.
    mutating func argument() -> String {
        while current == " " { index += 1 }
        guard let character = current, character != "$" else { return "" }
        index += 1
        switch character {
        case "{": return text(until: "}")
        case "\\": return command()
        default: return String(character)
        }
    }

    /// `^2`, `^{-1}`, `_i`, `_{ij}`: in Unicode super- or subscripts when every character has one.
    mutating func script(_ table: [Character: Character], marker: Character) -> String {
        let content = argument()
        let mapped = content.compactMap { table[$0] }
        if content.isEmpty { return String(marker) }
        if mapped.count == content.count { return String(mapped) }
        return content.count == 1 ? String(marker) + content : "\(marker)(\(content))"
    }

    static let styles: Set<String> = [
        "mathrm", "mathbf", "mathit", "mathcal", "mathbb", "mathsf", "mathtt", "boldsymbol", "text", "textbf", "textit",
        "textrm", "texttt", "emph", "operatorname", "mbox", "hat", "bar", "tilde", "vec", "widehat", "overline",
    ]

    static let symbols: [String: String] = [
        "times": "×", "cdot": "·", "div": "÷", "pm": "±", "mp": "∓", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥",
        "neq": "≠", "ne": "≠", "approx": "≈", "sim": "∼", "simeq": "≃", "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫",
        "infty": "∞", "partial": "∂", "nabla": "∇", "sum": "Σ", "prod": "Π", "int": "∫", "in": "∈", "notin": "∉",
        "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩", "emptyset": "∅", "forall": "∀", "exists": "∃",
        "rightarrow": "→", "to": "→", "leftarrow": "←", "Rightarrow": "⇒", "Leftarrow": "⇐", "leftrightarrow": "↔",
        "mapsto": "↦", "ldots": "…", "cdots": "⋯", "dots": "…", "circ": "∘", "star": "⋆", "ast": "∗", "prime": "′",
        "log": "log", "exp": "exp", "max": "max", "min": "min", "arg": "arg", "sin": "sin", "cos": "cos", "lim": "lim",
        "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ", "eta": "η",
        "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
        "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
        "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ",
        "Omega": "Ω", "ell": "ℓ", "left": "", "right": "", "quad": " ", "qquad": " ",
    ]

    static let superscripts: [Character: Character] = [
        "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "+": "⁺", "-": "⁻",
        "=": "⁼", "(": "⁽", ")": "⁾", "n": "ⁿ", "i": "ⁱ", "T": "ᵀ", "*": "*",
    ]

    static let subscripts: [Character: Character] = [
        "0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆", "7": "₇", "8": "₈", "9": "₉", "+": "₊", "-": "₋",
        "=": "₌", "(": "₍", ")": "₎", "i": "ᵢ", "j": "ⱼ", "k": "ₖ", "n": "ₙ", "t": "ₜ", "x": "ₓ",
    ]
}
