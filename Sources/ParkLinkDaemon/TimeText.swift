import Foundation

/// Times and durations as a technician types them on the command line (`--for 2h`,
/// `--since 15m`, `--since "2025-03-01 08:00"`) and as the CLI shows them (local time).
public enum TimeText {
    /// What went wrong, with the forms that are understood.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var text: String
        public var expected: String
        public var description: String { "`\(text)` is not \(expected)" }
    }

    static let durationForms = "a duration such as 90s, 15m, 2h, 1h30m or 1d (a plain number is seconds)"

    /// Seconds in `text`: units `s`, `m`, `h`, `d` (`w` too), combinable (`1h30m`); a plain
    /// number is seconds. Zero and negative durations are refused.
    public static func seconds(_ text: String) throws(Invalid) -> Int {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = Int(t), n > 0 { return n }
        var total = 0, number = "", any = false
        for c in t {
            if c.isASCII && c.isNumber {
                number.append(c)
                continue
            }
            let unit: Int
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3_600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: throw Invalid(text: text, expected: durationForms)
            }
            guard let n = Int(number), n <= 100_000_000 / unit else { throw Invalid(text: text, expected: durationForms) }
            total += n * unit
            number = ""
            any = true
        }
        guard any, number.isEmpty, total > 0 else { throw Invalid(text: text, expected: durationForms) }
        return total
    }

    static let instantForms = "a time: a duration ago (15m, 2h, 1d), an ISO 8601 time (2025-03-01T08:00:00Z, or with an offset), "
        + "or a local date and time (2025-03-01 08:00, 2025-03-01 08:00:30, 2025-03-01)"

    /// The instant `text` names, in UTC milliseconds, relative to `nowMs` for a duration
    /// ("15m": fifteen minutes ago); a date without a zone is local time (`timeZone`).
    public static func instant(_ text: String, nowMs: Int64, timeZone: TimeZone = .current) throws(Invalid) -> Int64 {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let s = try? seconds(t) { return nowMs - Int64(s) * 1_000 }
        if let ms = milliseconds(iso: t) { return ms }
        for format in ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = timeZone
            f.dateFormat = format
            f.isLenient = false
            if let d = f.date(from: t) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        }
        throw Invalid(text: text, expected: instantForms)
    }

    /// An ISO 8601 time with a zone (`Z` or an offset), with or without fractional seconds.
    public static func milliseconds(iso text: String) -> Int64? {
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            let f = ISO8601DateFormatter()
            f.formatOptions = options
            if let d = f.date(from: text) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }

    /// `YYYY-MM-DD HH:MM:SS` in the local time zone (`TZ`), for people.
    public static func local(_ ms: Int64, timeZone: TimeZone = .current) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = timeZone
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
