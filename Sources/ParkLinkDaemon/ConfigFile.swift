import Foundation
import TOMLKit

/// A configuration mistake, naming the file, the line and the fix.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var message: String
    public var fix: String

    public init(file: String, line: Int?, message: String, fix: String) {
        self.file = file
        self.line = line
        self.message = message
        self.fix = fix
    }

    public var description: String {
        let at = line.map { "\(file):\($0)" } ?? file
        return "\(at): \(message). Fix: \(fix)"
    }
}

/// Reads a TOML document with the checks a technician needs: every key must be known,
/// every value of the right type and range, and each error points at its line.
///
/// TOMLKit parses; it does not keep positions of values, so `line(of:in:)` finds them
/// in the text (keys are unique per table in TOML, so the first match is the one).
struct TOMLDocument {
    let path: String
    let root: TOMLTable
    private let lines: [Substring]

    init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, message: "cannot read the file",
                              fix: "check the path and its permissions (parklink run --config PATH)")
        }
        try self.init(path: path, text: text)
    }

    init(path: String, text: String) throws {
        self.path = path
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if let problem = TOMLPreflight.problem(in: text) {
            throw ConfigError(file: path, line: problem.line, message: "not valid TOML: \(problem.message)", fix: problem.fix)
        }
        do {
            root = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ConfigError(file: path, line: e.source.begin.line, message: "not valid TOML: \(e.description)",
                              fix: "write `key = value` lines under `[section]` headers; strings need quotes")
        }
    }

    /// The line of `key` inside `[section]` (or at the top when `section` is nil).
    func line(of key: String, in section: String?) -> Int? {
        var current: String?
        for (i, raw) in lines.enumerated() {
            let l = raw.trimmingCharacters(in: .whitespaces)
            if l.hasPrefix("[") {
                current = l.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                if key.isEmpty, current == section { return i + 1 }
                continue
            }
            guard current == section else { continue }
            if let eq = l.firstIndex(of: "="),
               l[..<eq].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) == key {
                return i + 1
            }
        }
        return nil
    }

    /// The tables of a `[[name]]` array (none when absent).
    func arrayOfTables(_ name: String) throws -> [ConfigSection] {
        guard let v = root[name] else { return [] }
        guard let a = v.array else {
            throw ConfigError(file: path, line: line(of: "", in: name) ?? line(of: name, in: nil),
                              message: "`\(name)` must be an array of tables", fix: "write each one as a [[\(name)]] header followed by key = value lines")
        }
        return try a.map { item in
            guard let t = item.table else {
                throw ConfigError(file: path, line: line(of: "", in: name), message: "`\(name)` must hold tables",
                                  fix: "write each one as a [[\(name)]] header followed by key = value lines")
            }
            return ConfigSection(doc: self, name: name, table: t)
        }
    }

    func error(_ section: String?, _ key: String, _ message: String, fix: String) -> ConfigError {
        ConfigError(file: path, line: line(of: key, in: section), message: message, fix: fix)
    }
}

/// Typed access to one table, remembering which keys were read so the rest can be
/// reported as unknown (a misspelt key silently ignored is a setting silently lost).
struct ConfigSection {
    let doc: TOMLDocument
    let name: String?
    let table: TOMLTable
    private(set) var used: Set<String> = []

    init(doc: TOMLDocument, name: String?, table: TOMLTable) {
        self.doc = doc
        self.name = name
        self.table = table
    }

    private var label: String { name.map { "[\($0)]" } ?? "the top level" }

    mutating func string(_ key: String, fix: String) throws -> String? {
        used.insert(key)
        guard let v = table[key] else { return nil }
        guard let s = v.string else {
            throw doc.error(name, key, "`\(key)` in \(label) must be a string", fix: fix)
        }
        return s
    }

    mutating func int(_ key: String, range: ClosedRange<Int>, fix: String) throws -> Int? {
        used.insert(key)
        guard let v = table[key] else { return nil }
        guard let i = v.int else {
            throw doc.error(name, key, "`\(key)` in \(label) must be a whole number", fix: fix)
        }
        guard range.contains(i) else {
            throw doc.error(name, key, "`\(key)` in \(label) is \(i), outside \(range.lowerBound)…\(range.upperBound)", fix: fix)
        }
        return i
    }

    mutating func double(_ key: String, range: ClosedRange<Double>, fix: String) throws -> Double? {
        used.insert(key)
        guard let v = table[key] else { return nil }
        guard let d = v.double ?? v.int.map(Double.init) else {
            throw doc.error(name, key, "`\(key)` in \(label) must be a number", fix: fix)
        }
        guard range.contains(d) else {
            throw doc.error(name, key, "`\(key)` in \(label) is \(d), outside \(range.lowerBound)…\(range.upperBound)", fix: fix)
        }
        return d
    }

    mutating func bool(_ key: String, fix: String) throws -> Bool? {
        used.insert(key)
        guard let v = table[key] else { return nil }
        guard let b = v.bool else {
            throw doc.error(name, key, "`\(key)` in \(label) must be true or false", fix: fix)
        }
        return b
    }

    mutating func markUsed(_ key: String) { used.insert(key) }

    /// Throws for the first key nobody asked for, suggesting the closest known one.
    func rejectUnknownKeys(known extra: [String] = []) throws {
        let known = used.union(extra)
        for key in table.keys.sorted() where !known.contains(key) {
            let suggestion = known.min { editDistance($0, key) < editDistance($1, key) }
            let fix = suggestion.map { "did you mean `\($0)`? Known keys in \(label): \(known.sorted().joined(separator: ", "))" }
                ?? "remove it"
            throw doc.error(name, key, "unknown key `\(key)` in \(label)", fix: fix)
        }
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var prev = row[0]
        row[0] = i
        for j in 1...max(b.count, 1) where !b.isEmpty {
            let cur = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
            prev = cur
        }
    }
    return row[b.count]
}
