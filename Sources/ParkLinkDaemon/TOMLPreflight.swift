/// What TOMLKit must not be handed: inputs its parser (toml++ 3.4) cannot take.
///
/// toml++ checks some of its input with assertions rather than errors: where its
/// look-ahead guessed wrong, the process aborts (or, built with `NDEBUG`, runs on with
/// undefined behaviour) instead of reporting a parse error. `fuzz/run` (FuzzConfig)
/// found two such places within minutes: a table header whose name starts with
/// anything but a bare-key character or a quote (`[!]`), and a value that looks like a
/// date but is not one (`1979-05-27Te07:32:00Z`). The value parser guesses a type from
/// the first characters in many ways, so rather than chase each guess this scan refuses
/// every unquoted value that is not plainly a number or a boolean (TOML 1.0 grammar):
/// the configuration uses no dates or times. It also refuses a NUL byte: the text goes
/// to toml++ as a C string, so whatever followed a NUL would be dropped without a word.
///
/// It walks the document as toml++ does (strings of all four kinds, comments, arrays
/// across lines, inline tables) and stops where toml++ would itself report an error,
/// leaving every other mistake to the parser's own message.
enum TOMLPreflight {
    struct Problem: Equatable {
        var line: Int
        var message: String
        var fix: String
    }

    static func problem(in text: String) -> Problem? {
        var scanner = Scanner(Array(text.utf8))
        return scanner.run()
    }

    private struct Scanner {
        enum Nest { case array, inlineTable }

        let b: [UInt8]
        var i = 0
        var line = 1
        var nesting: [Nest] = []
        var expectingValue = false

        init(_ bytes: [UInt8]) {
            b = bytes
            if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }  // toml++ skips a byte-order mark
        }

        func peek(_ k: Int = 0) -> UInt8? { i + k < b.count ? b[i + k] : nil }

        mutating func run() -> Problem? {
            if let nul = b.firstIndex(of: 0) {
                let line = 1 + b[..<nul].reduce(0) { $0 + ($1 == Ascii.newline ? 1 : 0) }
                return Problem(line: line, message: "a NUL byte", fix: "save the file as plain UTF-8 text")
            }
            var atLineStart = true
            while let c = peek() {
                if nesting.isEmpty && !expectingValue {
                    // The document: headers, keys, and what follows a value on its line.
                    if atLineStart && (c == Ascii.space || c == Ascii.tab) {
                        i += 1
                        continue
                    }
                    if atLineStart && c == Ascii.openBracket {
                        atLineStart = false
                        if let problem = header() { return problem }
                        continue
                    }
                    atLineStart = false
                    switch c {
                    case Ascii.newline:
                        line += 1
                        atLineStart = true
                        i += 1
                    case Ascii.hash: skipComment()
                    case Ascii.quote, Ascii.apostrophe: skipString()
                    case Ascii.equals:
                        expectingValue = true
                        i += 1
                    default: i += 1
                    }
                } else if expectingValue {
                    switch c {
                    case Ascii.space, Ascii.tab, Ascii.carriageReturn:
                        i += 1
                    case Ascii.newline where nesting.last == .array:
                        line += 1
                        i += 1
                    case Ascii.hash where nesting.last == .array:
                        skipComment()
                    case Ascii.newline, Ascii.hash:
                        return nil  // a key without its value: toml++ says so
                    case Ascii.quote, Ascii.apostrophe:
                        skipString()
                        expectingValue = false
                    case Ascii.openBracket:
                        nesting.append(.array)
                        i += 1
                    case Ascii.openBrace:
                        nesting.append(.inlineTable)
                        expectingValue = false
                        i += 1
                    case Ascii.closeBracket where nesting.last == .array:
                        close()  // `[]`, or `[1, 2,]`
                    default:
                        let start = i
                        while let d = peek(), !Self.endsValue(d) { i += 1 }
                        let token = b[start..<i]
                        guard Self.isNumberOrBoolean(token) else {
                            let shown = Self.shown(token)
                            return Problem(
                                line: line,
                                message: "`\(shown)` is not a number, true or false (dates and times are not used in this file)",
                                fix: "write numbers like 115200 or 0.5, booleans as true or false, and text in double quotes, e.g. \"\(shown)\"")
                        }
                        expectingValue = false
                    }
                } else {
                    // Inside an array after a value, or an inline table between its values.
                    let inArray = nesting.last == .array
                    switch c {
                    case Ascii.space, Ascii.tab, Ascii.carriageReturn:
                        i += 1
                    case Ascii.newline where inArray:
                        line += 1
                        i += 1
                    case Ascii.hash where inArray:
                        skipComment()
                    case Ascii.comma:
                        expectingValue = inArray
                        i += 1
                    case Ascii.equals where !inArray:
                        expectingValue = true
                        i += 1
                    case Ascii.closeBracket where inArray, Ascii.closeBrace where !inArray:
                        close()
                    case Ascii.quote where !inArray, Ascii.apostrophe where !inArray:
                        skipString()  // a quoted key
                    default:
                        if inArray { return nil }  // a value where a comma belongs: toml++ says so
                        i += 1  // a bare key (toml++ checks its characters itself)
                    }
                }
            }
            return nil
        }

        /// A `[table]` or `[[array]]` header at the start of a line: checks how its name
        /// starts, then skips it (quoted parts included).
        mutating func header() -> Problem? {
            let start = i
            var k = i + 1
            var spaced = false
            while k < b.count, b[k] == Ascii.space || b[k] == Ascii.tab {
                k += 1
                spaced = true
            }
            if !spaced, k < b.count, b[k] == Ascii.openBracket {
                k += 1
                while k < b.count, b[k] == Ascii.space || b[k] == Ascii.tab { k += 1 }
            }
            if k < b.count, !Self.startsHeaderName(b[k]) {
                let shown = Self.shown(b[start...k])
                return Problem(line: line, message: "the table header `\(shown)…` does not start with a name",
                               fix: "write section headers as [name] or [[name]], e.g. [link] or [[zone]]")
            }
            i = k
            while let c = peek(), c != Ascii.newline {
                if c == Ascii.quote || c == Ascii.apostrophe {
                    skipString()
                } else {
                    i += 1
                    if c == Ascii.closeBracket { break }
                }
            }
            return nil
        }

        mutating func close() {
            nesting.removeLast()
            expectingValue = false
            i += 1
        }

        mutating func skipComment() {
            while let c = peek(), c != Ascii.newline { i += 1 }
        }

        /// Skips the string starting at `i` (any of the four kinds); where it does not
        /// end (on its line, for the one-line kinds) toml++ reports it, and the scan stops.
        mutating func skipString() {
            let quote = b[i]
            let multiLine = peek(1) == quote && peek(2) == quote
            if !multiLine && peek(1) == quote {
                i += 2  // `""`: an empty string
                return
            }
            i += multiLine ? 3 : 1
            while let c = peek() {
                if c == Ascii.backslash && quote == Ascii.quote {
                    if peek(1) == Ascii.newline {
                        guard multiLine else { break }
                        line += 1
                    }
                    i += 2
                    continue
                }
                if c == Ascii.newline {
                    guard multiLine else { break }
                    line += 1
                }
                if c == quote {
                    guard multiLine else {
                        i += 1
                        return
                    }
                    var run = 0
                    while peek(run) == quote { run += 1 }
                    // A multi-line string may end with up to two quotes of its own.
                    i += min(run, 5)
                    if run >= 3 { return }
                    continue
                }
                i += 1
            }
            i = b.count
        }

        /// toml++'s value terminators (ASCII; any other whitespace makes the token invalid).
        static func endsValue(_ c: UInt8) -> Bool {
            switch c {
            case Ascii.space, Ascii.tab, Ascii.newline, Ascii.carriageReturn, Ascii.comma,
                Ascii.closeBracket, Ascii.closeBrace, Ascii.hash:
                true
            default:
                false
            }
        }

        /// What toml++ accepts (or reports cleanly) as the first character of a header's
        /// name: a bare-key character, a quote, or the `]` of an empty header.
        static func startsHeaderName(_ c: UInt8) -> Bool {
            isBareKeyCharacter(c) || c == Ascii.quote || c == Ascii.apostrophe || c == Ascii.closeBracket
        }

        static func isBareKeyCharacter(_ c: UInt8) -> Bool {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }

        /// TOML 1.0: a boolean, an integer (decimal with an optional sign, or unsigned
        /// 0x/0o/0b), or a float (decimal with a fraction and/or an exponent, or inf/nan
        /// with an optional sign); `_` only between two digits.
        static func isNumberOrBoolean(_ token: ArraySlice<UInt8>) -> Bool {
            let t = Array(token)
            if t.elementsEqual("true".utf8) || t.elementsEqual("false".utf8) { return true }
            var k = 0
            if let first = t.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { k = 1 }
            let unsigned = t[k...]
            if unsigned.elementsEqual("inf".utf8) || unsigned.elementsEqual("nan".utf8) { return true }
            if k == 0, t.count > 2, t[0] == UInt8(ascii: "0") {
                let radix: Int? = switch t[1] {
                case UInt8(ascii: "x"): 16
                case UInt8(ascii: "o"): 8
                case UInt8(ascii: "b"): 2
                default: nil
                }
                if let radix { return digits(t, from: 2, radix: radix) == t.count }
            }
            // The integer part: 0, or digits without a leading zero.
            var p: Int
            if k < t.count && t[k] == UInt8(ascii: "0") {
                p = k + 1
            } else {
                guard let end = digits(t, from: k, radix: 10) else { return false }
                p = end
            }
            if p < t.count && t[p] == UInt8(ascii: ".") {
                guard let end = digits(t, from: p + 1, radix: 10) else { return false }
                p = end
            }
            if p < t.count && (t[p] == UInt8(ascii: "e") || t[p] == UInt8(ascii: "E")) {
                p += 1
                if p < t.count && (t[p] == UInt8(ascii: "+") || t[p] == UInt8(ascii: "-")) { p += 1 }
                guard let end = digits(t, from: p, radix: 10) else { return false }
                p = end
            }
            return p == t.count
        }

        /// The end of a run of digits in `radix` from `start`, `_` allowed between two
        /// digits; nil when there is no digit at `start`.
        static func digits(_ t: [UInt8], from start: Int, radix: Int) -> Int? {
            func isDigit(_ c: UInt8) -> Bool {
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(c - UInt8(ascii: "0")) < radix
                case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): radix == 16
                default: false
                }
            }
            var p = start
            guard p < t.count, isDigit(t[p]) else { return nil }
            p += 1
            while p < t.count {
                if isDigit(t[p]) {
                    p += 1
                } else if t[p] == UInt8(ascii: "_"), p + 1 < t.count, isDigit(t[p + 1]) {
                    p += 2
                } else {
                    break
                }
            }
            return p
        }

        /// Bytes for a message: at most 40 characters, control characters escaped, so a
        /// hostile file cannot write to the technician's terminal.
        static func shown<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
            let text = String(decoding: bytes, as: UTF8.self)
            let short = text.count > 40 ? String(text.prefix(40)) + "…" : text
            return short.unicodeScalars
                .map { $0.value < 0x20 || $0.value == 0x7F ? $0.escaped(asASCII: true) : String($0) }.joined()
        }
    }

    private enum Ascii {
        static let tab = UInt8(ascii: "\t")
        static let newline = UInt8(ascii: "\n")
        static let carriageReturn = UInt8(ascii: "\r")
        static let space = UInt8(ascii: " ")
        static let quote = UInt8(ascii: "\"")
        static let apostrophe = UInt8(ascii: "'")
        static let backslash = UInt8(ascii: "\\")
        static let hash = UInt8(ascii: "#")
        static let comma = UInt8(ascii: ",")
        static let equals = UInt8(ascii: "=")
        static let openBracket = UInt8(ascii: "[")
        static let closeBracket = UInt8(ascii: "]")
        static let openBrace = UInt8(ascii: "{")
        static let closeBrace = UInt8(ascii: "}")
    }
}
