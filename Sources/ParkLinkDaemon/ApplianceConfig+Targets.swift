import Foundation
import ParkLinkAnalytics

/// A zone's daily arrivals target on one date (a match day, a holiday), over the zone's
/// `daily_target`: `[[target]]` in the config file.
public struct DateTarget: Sendable, Equatable {
    public var zone: String
    /// A local date, `YYYY-MM-DD`.
    public var date: String
    public var dailyTarget: Int

    public init(zone: String, date: String, dailyTarget: Int) {
        self.zone = zone
        self.date = date
        self.dailyTarget = dailyTarget
    }
}

extension ApplianceConfig {
    /// The daily target of `zone` on the local date `date` (`YYYY-MM-DD`): a `[[target]]`
    /// for that date, else the zone's `daily_target`, else nil (no target: no efficiency).
    public func dailyTarget(zone: String, date: String) -> Int? {
        if let t = dateTargets.last(where: { $0.zone == zone && $0.date == date }) { return t.dailyTarget }
        return zones.zones.first { $0.id == zone }?.dailyTarget
    }

    /// `[[target]]` tables: `zone` (a configured zone, or a gateway's), `date`
    /// (`"YYYY-MM-DD"`: a string, as the loader takes no TOML dates) and `daily_target`.
    static func parseDateTargets(_ doc: TOMLDocument) throws -> [DateTarget] {
        let example = "zone = \"A\", date = \"2025-12-24\" and daily_target = 600"
        var out: [DateTarget] = []
        for var t in try doc.arrayOfTables("target") {
            let dateFix = "date = \"2025-12-24\" (YYYY-MM-DD, in quotes)"
            let zone = try t.string("zone", fix: "zone = \"A\" (a zone's id)")
            let day = try t.string("date", fix: dateFix)
            let target = try t.int("daily_target", range: 1...10_000_000, fix: "daily_target = 600 (arrivals that day)")
            // A misspelt key first: `daily = 600` is better answered with "did you mean".
            try t.rejectUnknownKeys()
            guard let zone, let date = day, let n = target else {
                throw doc.error("target", "", "a [[target]] needs zone, date and daily_target", fix: example)
            }
            guard Self.isDate(date) else {
                throw doc.error("target", "date", "`\(date)` in [[target]] is not a date", fix: dateFix)
            }
            out.append(DateTarget(zone: zone, date: date, dailyTarget: n))
        }
        return out
    }

    /// `YYYY-MM-DD` naming a real day.
    static func isDate(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), d >= 1 else { return false }
        let days = [31, (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= days[m - 1]
    }
}
