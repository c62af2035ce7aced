import Foundation
import ParkLinkProtocol
import TOMLKit

/// Everything `parklink run` can be told, from the config file, then overridden by
/// command-line options. Secrets never live here: the database password comes from
/// `PARKLINK_DB_PASSWORD` (or the DSN on the command line).
public struct ApplianceConfig: Sendable {
    public enum InsertMethod: String, Sendable, CaseIterable {
        /// A prepared INSERT with MariaDB array binding (measured fastest: the default).
        case arrayBinding = "array-binding"
        /// Multi-row INSERT text statements.
        case multiRow = "multi-row"
    }

    // [link]
    public var device: String?
    public var baud: UInt32 = 115_200
    public var framing: FrameEncoding = .text
    public var helloTimeoutMs = 2_000
    public var fallbackGatewayId = "unknown"
    // [database]
    public var dsn: String?
    // [pipeline]
    public var ringCapacity = 262_144
    public var batchMaxRows = 5_000
    public var batchLingerMs = 20
    public var insertMethod: InsertMethod = .arrayBinding
    /// How long `run` keeps retrying the last batches on SIGTERM when the database is down.
    public var shutdownGraceSeconds = 30
    // [state]
    public var stateDirectory: String?

    public init() {}

    /// Loads and checks `path`; every mistake names the file, line and fix.
    public static func load(path: String) throws -> ApplianceConfig {
        try parse(TOMLDocument(path: path))
    }

    public static func parse(text: String, path: String = "parklink.toml") throws -> ApplianceConfig {
        try parse(TOMLDocument(path: path, text: text))
    }

    static func parse(_ doc: TOMLDocument) throws -> ApplianceConfig {
        var c = ApplianceConfig()
        let sections = ["link", "database", "pipeline", "state"]
        for key in doc.root.keys where !sections.contains(key) {
            let best = sections.min { editDistance($0, key) < editDistance($1, key) }!
            throw ConfigError(file: doc.path, line: doc.line(of: key, in: nil) ?? doc.line(of: "", in: key),
                              message: "unknown section or key `\(key)`",
                              fix: "the sections are [\(sections.joined(separator: "], ["))]; did you mean [\(best)]?")
        }
        func table(_ name: String) throws -> ConfigSection? {
            guard let v = doc.root[name] else { return nil }
            guard let t = v.table else {
                throw ConfigError(file: doc.path, line: doc.line(of: name, in: nil), message: "`\(name)` must be a table",
                                  fix: "write it as a [\(name)] header followed by key = value lines")
            }
            return ConfigSection(doc: doc, name: name, table: t)
        }
        if var s = try table("link") {
            c.device = try s.string("device", fix: "device = \"/dev/ttyACM0\"")
            if let b = try s.int("baud", range: 50...4_000_000, fix: "baud = 115200 (a USB CDC gateway ignores it)") {
                c.baud = UInt32(b)
            }
            if let f = try s.string("framing", fix: "framing = \"text\" or \"binary\"") {
                guard let e = FrameEncoding(rawValue: f) else {
                    throw doc.error("link", "framing", "framing `\(f)` is not known", fix: "framing = \"text\" or \"binary\"")
                }
                c.framing = e
            }
            if let t = try s.int("hello_timeout_ms", range: 100...600_000, fix: "hello_timeout_ms = 2000") { c.helloTimeoutMs = t }
            if let g = try s.string("fallback_gateway_id", fix: "fallback_gateway_id = \"GW-01\"") {
                guard (1...32).contains(g.count), g.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                    throw doc.error("link", "fallback_gateway_id", "`\(g)` is not a gateway id", fix: "1–32 characters of A–Z a–z 0–9 _ -")
                }
                c.fallbackGatewayId = g
            }
            try s.rejectUnknownKeys()
        }
        if var s = try table("database") {
            c.dsn = try s.string("dsn", fix: "dsn = \"mysql://user@host:3306/parklink\" (password in PARKLINK_DB_PASSWORD)")
            if let dsn = c.dsn, let scheme = dsn.range(of: "://"),
               let at = dsn[scheme.upperBound...].firstIndex(of: "@"),
               dsn[scheme.upperBound..<at].contains(":") {
                throw doc.error("database", "dsn", "the DSN holds a password; config files are readable by too many", fix: "remove the password from the DSN and set PARKLINK_DB_PASSWORD instead")
            }
            try s.rejectUnknownKeys()
        }
        if var s = try table("pipeline") {
            if let v = try s.int("ring_capacity", range: 1_024...16_777_216, fix: "ring_capacity = 262144") { c.ringCapacity = v }
            if let v = try s.int("batch_max_rows", range: 1...50_000, fix: "batch_max_rows = 5000") { c.batchMaxRows = v }
            if let v = try s.int("batch_linger_ms", range: 0...10_000, fix: "batch_linger_ms = 20") { c.batchLingerMs = v }
            if let v = try s.int("shutdown_grace_seconds", range: 0...3_600, fix: "shutdown_grace_seconds = 30") { c.shutdownGraceSeconds = v }
            if let m = try s.string("insert_method", fix: "insert_method = \"array-binding\" or \"multi-row\"") {
                guard let e = InsertMethod(rawValue: m) else {
                    throw doc.error("pipeline", "insert_method", "insert_method `\(m)` is not known", fix: "insert_method = \"array-binding\" or \"multi-row\"")
                }
                c.insertMethod = e
            }
            try s.rejectUnknownKeys()
        }
        if var s = try table("state") {
            c.stateDirectory = try s.string("directory", fix: "directory = \"/var/lib/parklink\"")
            try s.rejectUnknownKeys()
        }
        return c
    }
}
