import Foundation

extension String {
    /// Author names as arXiv's feed writes them keep TeX accents (`Andr\'e`, `M\"{u}ller`,
    /// `{\c{C}}elik`); readers should see `André`, `Müller`, `Çelik`. Anything else is left as written.
    var decodingTeXAccents: String {
        guard utf8.contains(UInt8(ascii: "\\")) else { return self }
        let accents: [Character: Unicode.Scalar] = [
            "'": "\u{301}", "`": "\u{300}", "^": "\u{302}", "\"": "\u{308}", "~": "\u{303}",
            "=": "\u{304}", ".": "\u{307}", "c": "\u{327}", "v": "\u{30C}", "u": "\u{306}", "H": "\u{30B}", "k": "\u{328}",
        ]
        var result = ""
        var characters = Array(self)[...]
        while let character = characters.popFirst() {
            guard character == "\\", let command = characters.first, let mark = accents[command] else {
                // Grouping braces (`{\c{C}}elik`) are TeX syntax, not part of the name.
                if character != "{" && character != "}" { result.append(character) }
                continue
            }
            characters.removeFirst()
            if command.isLetter, characters.first == " " { characters.removeFirst() }
            var letter: Character?
            if characters.first == "{" {
                characters.removeFirst()
                letter = characters.popFirst()
                if characters.first == "}" { characters.removeFirst() }
            } else {
                letter = characters.popFirst()
            }
            guard let letter else { break }
            var scalars = String(letter).unicodeScalars
            scalars.append(mark)
            result.append(String(String.UnicodeScalarView(scalars)).precomposedStringWithCanonicalMapping)
        }
        return result
    }
}
