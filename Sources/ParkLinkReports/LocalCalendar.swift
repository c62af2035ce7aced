import Foundation
import ParkLinkAnalytics

/// Local days and hours in one time zone: the database keeps UTC, people read local time.
///
/// Which zone: `--tz NAME`, else `timezone` under `[sampler]` in the config file given with
/// `--config` (the car park's own, which also sets the daemon's "today"), else the `TZ`
/// environment variable, else the system's zone (`/etc/localtime`), else UTC.
public struct LocalCalendar: Sendable {
    public let timeZone: TimeZone
    /// The zone's name as given (Foundation calls UTC "GMT").
    public let name: String
    private let calendar: Calendar

    public init(timeZone: TimeZone, name: String? = nil) {
        self.timeZone = timeZone
        self.name = name ?? timeZone.identifier
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timeZone
        calendar = c
    }

    public struct UnknownTimeZone: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "`\(name)` is not a time zone this system knows. Fix: an IANA name such as UTC or Europe/London (see /usr/share/zoneinfo)"
        }
    }

    /// The zone by the rule above.
    public static func resolve(option: String?, config: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LocalCalendar {
        for name in [option, config] {
            guard let name else { continue }
            guard let tz = TimeZone(identifier: name) else { throw UnknownTimeZone(name: name) }
            return LocalCalendar(timeZone: tz, name: name)
        }
        if let name = environment["TZ"], !name.isEmpty {
            // POSIX allows a leading colon (`TZ=:Europe/London`).
            let id = name.hasPrefix(":") ? String(name.dropFirst()) : name
            guard let tz = TimeZone(identifier: id) else { throw UnknownTimeZone(name: name) }
            return LocalCalendar(timeZone: tz, name: id)
        }
        return LocalCalendar(timeZone: TimeZone.current)
    }

    /// Midnight starting the local date `YYYY-MM-DD`, as UTC milliseconds; nil if not a date.
    public func startOfDay(_ date: String) -> Int64? {
        let parts = date.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        let components = DateComponents(year: y, month: m, day: d)
        guard components.isValidDate(in: calendar), let day = calendar.date(from: components) else { return nil }
        return Self.ms(calendar.startOfDay(for: day))
    }

    /// The midnight after the day that `dayStartMs` begins.
    public func nextDay(_ dayStartMs: Int64) -> Int64 {
        Self.ms(calendar.date(byAdding: .day, value: 1, to: Self.date(dayStartMs))!)
    }

    /// The same local time `days` days away (a week earlier: -7).
    public func adding(days: Int, to ms: Int64) -> Int64 {
        Self.ms(calendar.date(byAdding: .day, value: days, to: Self.date(ms))!)
    }

    /// The local date holding `ms`, `YYYY-MM-DD`.
    public func date(of ms: Int64) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: Self.date(ms))
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// Today's local date.
    public func today(nowMs: Int64) -> String { date(of: nowMs) }

    /// `HH:MM` local.
    public func clock(of ms: Int64) -> String {
        let c = calendar.dateComponents([.hour, .minute], from: Self.date(ms))
        return String(format: "%02d:%02d", c.hour!, c.minute!)
    }

    /// ISO 8601 local time with its offset: `2025-01-05T09:00:00+01:00`.
    public func iso(_ ms: Int64) -> String {
        let d = Self.date(ms)
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
        let offset = timeZone.secondsFromGMT(for: d)
        let sign = offset < 0 ? "-" : "+"
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d%@%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!,
                      sign, abs(offset) / 3600, abs(offset) % 3600 / 60)
    }

    /// Hours from `fromMs` to `toMs`: 3,600 s apart, so a day with a daylight saving change
    /// has 23 or 25 (each labelled with its own local time).
    public func hours(fromMs: Int64, toMs: Int64) -> HourGrid {
        HourGrid(starts: Array(stride(from: fromMs, to: toMs, by: 3_600_000)), endMs: toMs)
    }

    /// The same hours a week earlier (same local clock time), for comparison; where a
    /// daylight saving change makes two of them meet, a plain 168-hour shift.
    public func weekEarlier(_ grid: HourGrid) -> HourGrid {
        let starts = grid.starts.map { adding(days: -7, to: $0) }
        let end = adding(days: -7, to: grid.endMs)
        if zip(starts, starts.dropFirst()).allSatisfy({ $0 < $1 }), let last = starts.last, last < end {
            return HourGrid(starts: starts, endMs: end)
        }
        let week: Int64 = 7 * 86_400_000
        return HourGrid(starts: grid.starts.map { $0 - week }, endMs: grid.endMs - week)
    }

    /// `YYYY-MM-DD` (local midnight) or a date and time: `YYYY-MM-DDTHH:MM[:SS]` local, or
    /// with `Z` or an offset; as UTC milliseconds.
    public func instant(_ text: String) -> Int64? {
        if let day = startOfDay(text) { return day }
        let t = text.replacingOccurrences(of: " ", with: "T")
        let iso = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            iso.formatOptions = options
            if let d = iso.date(from: t) { return Self.ms(d) }
        }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = timeZone
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm"] {
            f.dateFormat = format
            if let d = f.date(from: t) { return Self.ms(d) }
        }
        return nil
    }

    static func ms(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}
