/// A UTC calendar time with millisecond precision, computed from milliseconds since the
/// Unix epoch with integer arithmetic only (no Foundation, no `Date`, no allocation), so the
/// inserters can convert every row in their hot loops.
struct CivilTime: Equatable {
    var year: Int
    var month: Int  // 1...12
    var day: Int  // 1...31
    var hour: Int
    var minute: Int
    var second: Int
    var millisecond: Int

    @inline(__always)
    init(millisecondsSinceEpoch ms: Int64) {
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

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
    }

    /// Milliseconds since the Unix epoch.
    var millisecondsSinceEpoch: Int64 {
        let days = Int64(CivilTime.days(fromCivil: year, month, day))
        return ((days * 24 + Int64(hour)) * 60 + Int64(minute)) * 60_000 + Int64(second) * 1000 + Int64(millisecond)
    }

    /// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
    @inline(__always)
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
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
    static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Parses "YYYY-MM-DD HH:MM:SS[.fff]" as the server prints a DATETIME(3).
    static func parse(_ text: String) -> CivilTime? {
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
}
