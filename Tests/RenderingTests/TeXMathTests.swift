@testable import Rendering
import Testing

@Suite("TeX math in titles and abstracts")
struct TeXMathTests {
    @Test("common math becomes Unicode text and the dollar signs go", arguments: [
        (#"Up to $1.13\times$ faster"#, "Up to 1.13× faster"),
        (#"An $O(n^2)$ algorithm with $\epsilon$-accuracy"#, "An O(n²) algorithm with ε-accuracy"),
        (#"$\alpha$-divergences for $x_{i}$ and $x_1$"#, "α-divergences for xᵢ and x₁"),
        (#"error $\leq 10^{-3}$, $k \geq 2$, $a \neq b$"#, "error ≤ 10⁻³, k ≥ 2, a ≠ b"),
        (#"$\frac{1}{2}$-approximation in $\mathbb{R}^d$"#, "1/2-approximation in R^d"),
        (#"$\mathcal{O}(\log n)$ and 95\% recall"#, "O(log n) and 95% recall"),
        (#"From $\ell_2$ to $\ell_\infty$"#, "From ℓ₂ to ℓ_∞"),
        ("Plain text with snake_case and a^b stays", "Plain text with snake_case and a^b stays"),
        (#"Costs \$5"#, "Costs $5"),
    ])
    func decoded(input: String, expected: String) {
        #expect(input.decodingTeXMath == expected)
    }

    @Test("broken input does not crash and loses no words")
    func broken() {
        #expect("$unclosed \\alpha".decodingTeXMath == "unclosed α")
        #expect("\\".decodingTeXMath == "\\")
        #expect("{{{".decodingTeXMath == "{{{", "text without $ or \\ is left alone")
        #expect("${{{".decodingTeXMath == "")
        #expect("x^".decodingTeXMath == "x^")
        #expect("$x^$".decodingTeXMath == "x^")
    }
}
