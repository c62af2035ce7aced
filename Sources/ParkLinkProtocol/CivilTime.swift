/// The one calendar conversion of the appliance (the store's DATETIME(3) values, the
/// evaluation's data-set timestamps).
///
/// A UTC calendar time with millisecond precision, computed from milliseconds since the
/// Unix epoch with integer arithmetic only (no Foundation, no `Date`, no allocation), so the
/// inserters can convert every row in their hot loops.
public struct CivilTime: Equatable, Sendable {
    public var year: Int
    public var month: Int  // 1...12
    public var day: Int  // 1...31
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var millisecond: Int

    @inline(__always)
    public init(millisecondsSinceEpoch ms: Int64) {
        let msPerDay: Int64 = 86_400_000
        var days = ms / msPerDay
        var msOfDay = ms % msPerDay
        if msOfDay < 0 {
            msOfDay += msPerDay
            days -= 1
        }
        let (y, m, d) = CivilTime.civil(fromDays: Int(days))
        year = y
        month = m
        day = d
        let s = Int(msOfDay / 1000)
        millisecond = Int(msOfDay % 1000)
        hour = s / 3600
        minute = (s / 60) % 60
        second = s % 60
    }

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
    }

    /// Milliseconds since the Unix epoch.
    public var millisecondsSinceEpoch: Int64 {
        let days = Int64(CivilTime.days(fromCivil: year, month, day))
        return ((days * 24 + Int64(hour)) * 60 + Int64(minute)) * 60_000 + Int64(second) * 1000 + Int64(millisecond)
    }

    /// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
    @inline(__always)
    public static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Howard Hinnant's `days_from_civil`.
    public static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Parses "YYYY-MM-DD HH:MM:SS[.fff]" as the server prints a DATETIME(3).
    public static func parse(_ text: String) -> CivilTime? {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == " " || $0 == ":" || $0 == "." })
        guard parts.count >= 6, let y = Int(parts[0]), let mo = Int(parts[1]), let d = Int(parts[2]),
              let h = Int(parts[3]), let mi = Int(parts[4]), let s = Int(parts[5]) else { return nil }
        var ms = 0
        if parts.count >= 7 {
            let frac = parts[6].prefix(3)
            guard let f = Int(frac) else { return nil }
            ms = f * [100, 10, 1][frac.count - 1]
        }
        return CivilTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s, millisecond: ms)
    }

    /// Seconds since 1970-01-01 for exactly "YYYY-MM-DD HH:MM:SS" (or a `T` between date
    /// and time) with valid field ranges; nil otherwise. Bytes, not a `String`, so a CSV
    /// reader can parse 35,000 rows without Foundation.
    public static func seconds<C: Collection>(parsing text: C) -> Int64? where C.Element == UInt8 {
        guard text.count == 19 else { return nil }
        var digits = [Int](repeating: 0, count: 14)
        var d = 0
        for (i, byte) in text.enumerated() {
            switch i {
            case 4, 7:
                guard byte == UInt8(ascii: "-") else { return nil }
            case 10:
                guard byte == UInt8(ascii: " ") || byte == UInt8(ascii: "T") else { return nil }
            case 13, 16:
                guard byte == UInt8(ascii: ":") else { return nil }
            default:
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                digits[d] = Int(byte - UInt8(ascii: "0"))
                d += 1
            }
        }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + digits[$1] } }
        let year = number(0..<4), month = number(4..<6), day = number(6..<8)
        let hour = number(8..<10), minute = number(10..<12), second = number(12..<14)
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        return Int64(days(fromCivil: year, month, day)) * 86_400 + Int64(hour * 3_600 + minute * 60 + second)
    }

    /// "YYYY-MM-DD HH:MM:SS" for seconds since 1970-01-01.
    public static func format(seconds: Int64) -> String {
        let t = CivilTime(millisecondsSinceEpoch: seconds * 1000)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(t.year)-\(two(t.month))-\(two(t.day)) \(two(t.hour)):\(two(t.minute)):\(two(t.second))"
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// Text forms of a UTC instant given in milliseconds since the Unix epoch.
public enum Timestamps {
    /// ISO 8601 UTC with milliseconds ("2026-11-28T06:04:15.123Z"), or nil for "never" (0).
    public static func iso(ms: Int64) -> String? {
        guard ms > 0 else { return nil }
        return text(ms, dateTimeSeparator: "T") + "Z"
    }

    /// "YYYY-MM-DD HH:MM:SS.fff": how MariaDB reads and prints a DATETIME(3).
    public static func sql(ms: Int64) -> String { text(ms, dateTimeSeparator: " ") }

    private static func text(_ ms: Int64, dateTimeSeparator: Character) -> String {
        let t = CivilTime(millisecondsSinceEpoch: ms)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))\(dateTimeSeparator)"
            + "\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2)).\(pad(t.millisecond, 3))"
    }
}
