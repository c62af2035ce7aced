import Foundation
import ParkLinkAnalytics
import TOMLKit

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
    /// (`YYYY-MM-DD`, a TOML date or a string) and `daily_target`.
    static func parseDateTargets(_ doc: TOMLDocument) throws -> [DateTarget] {
        let example = "zone = \"A\", date = \"2025-12-24\" and daily_target = 600"
        var out: [DateTarget] = []
        for var t in try doc.arrayOfTables("target") {
            guard let zone = try t.string("zone", fix: "zone = \"A\" (a zone's id)") else {
                throw doc.error("target", "", "a [[target]] has no zone", fix: example)
            }
            t.markUsed("date")
            guard let value = t.table["date"] else {
                throw doc.error("target", "", "a [[target]] has no date", fix: example)
            }
            let text = value.date.map { String(format: "%04d-%02d-%02d", $0.year, $0.month, $0.day) } ?? value.string
            guard let date = text, Self.isDate(date) else {
                throw doc.error("target", "date", "`date` in [[target]] is not a date", fix: "date = 2025-12-24 or \"2025-12-24\" (YYYY-MM-DD)")
            }
            guard let n = try t.int("daily_target", range: 1...10_000_000, fix: "daily_target = 600 (arrivals that day)") else {
                throw doc.error("target", "", "a [[target]] has no daily_target", fix: example)
            }
            try t.rejectUnknownKeys()
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
