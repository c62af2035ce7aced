import Foundation
import Logging
import ParkLinkSampler

/// How one log event becomes one line: a technician reads the text form in a terminal or
/// `journalctl`, a log shipper parses the JSON form. Either way an event is exactly one
/// line, whatever its message or values hold (a server's multi-line error included), so
/// nothing downstream has to guess where an event ends.
public struct LogLineFormat: Sendable, Equatable {
    public enum Encoding: String, Sendable, CaseIterable {
        /// `TS LEVEL LABEL: MESSAGE key=value …` (values with spaces quoted).
        case text
        /// One JSON object: `ts`, `level`, `label`, `message`, `source`, then the metadata.
        case json
    }

    public var encoding: Encoding
    /// stderr is the systemd journal: each line starts with its syslog priority (`<N>`),
    /// which journald turns into the entry's priority, and text lines carry no
    /// timestamp (journald records one for every entry).
    public var journal: Bool

    public init(encoding: Encoding, journal: Bool) {
        self.encoding = encoding
        self.journal = journal
    }

    /// The keys of a JSON line that are not metadata; a metadata key spelt like one of
    /// them is written as `metadata.KEY`, so it can neither replace nor be lost.
    public static let reservedKeys: Set<String> = ["ts", "level", "label", "message", "source"]

    /// The syslog priority journald understands for `level` (RFC 5424 severities;
    /// swift-log's trace and debug are both debug).
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The whole line, without its newline.
    public func line(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata,
                     source: String, date: Date) -> String {
        let prefix = journal ? "<\(Self.syslogPriority(level))>" : ""
        switch encoding {
        case .text:
            var line = prefix
            if !journal { line += Self.timestamp(date) + " " }
            line += "\(level) \(label): " + Self.escapingControls(message)
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
                line += " " + Self.escapingControls(key) + "=" + Self.textValue(value)
            }
            return line
        case .json:
            var object: [String: JSONValue] = [
                "ts": .string(Self.timestamp(date)), "level": .string(level.rawValue), "label": .string(label),
                "message": .string(message), "source": .string(source),
            ]
            for (key, value) in metadata {
                object[Self.reservedKeys.contains(key) ? "metadata." + key : key] = Self.jsonValue(value)
            }
            return prefix + Self.encode(object)
        }
    }

    /// ISO 8601 in UTC with milliseconds, e.g. `2025-06-24T14:37:38.123Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    // MARK: Text

    /// A value as `key=value` shows it: bare when it is one plain word, else quoted with
    /// `"` and `\` escaped, so a reader (or `awk`) can tell where it ends.
    static func textValue(_ value: Logger.Metadata.Value) -> String {
        let s: String
        switch value {
        case .string(let v): s = v
        case .stringConvertible(let v): s = v.description
        case .array, .dictionary: s = value.description
        }
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            c.value > 0x20 && c.value != 0x7F && c != "\"" && c != "\\" && c != "="
        }
        if plain { return s }
        var quoted = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            default: quoted += escape(c)
            }
        }
        return quoted + "\""
    }

    /// Line breaks and other control characters written as escapes: one event, one line.
    static func escapingControls(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        return s.unicodeScalars.map(escape).joined()
    }

    private static func isControl(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || c.value == 0x7F }

    private static func escape(_ c: Unicode.Scalar) -> String {
        switch c {
        case "\n": "\\n"
        case "\r": "\\r"
        case "\t": "\\t"
        case _ where isControl(c): "\\u{\(String(c.value, radix: 16))}"
        default: String(c)
        }
    }

    // MARK: JSON

    /// Metadata values stay what swift-log carries: strings, and arrays and objects of them.
    static func jsonValue(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): .string(s)
        case .stringConvertible(let c): .string(c.description)
        case .array(let a): .array(a.map(jsonValue))
        case .dictionary(let d): .object(d.mapValues(jsonValue))
        }
    }

    private static func encode(_ object: [String: JSONValue]) -> String {
        let encoder = JSONEncoder()
        // Sorted: the same event is the same bytes, which diffs and tests rely on.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else {
            // Cannot happen for strings, arrays and objects; still one line, still JSON.
            return #"{"level":"error","message":"a log event could not be encoded"}"#
        }
        return String(decoding: data, as: UTF8.self)
    }
}
