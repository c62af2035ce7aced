import ParkLinkAnalytics
import ParkLinkStore

/// `parklink watch --since` when no daemon answers: the lines the daemon's replay would
/// send (`WatchReplay`), read from the database by the command itself, so a technician can
/// still see what happened while the appliance was running.
public enum StoredWatch {
    /// Calls `each` with every bay change, alert raised or resolved and override between
    /// `sinceMs` and `untilMs` (oldest first, `zone`'s only when given); returns how many.
    /// Constant memory: `WatchHistory` reads in pages.
    @discardableResult
    public static func replay(_ c: MariaDBConnection, appliance: String, sinceMs: Int64, untilMs: Int64, zone: String?,
                              zones: ZoneMap, _ each: (WatchEvent) throws -> Void) throws -> Int {
        let items = try WatchHistory(connection: c, appliance: appliance, sinceMs: sinceMs, untilMs: untilMs, zone: zone)
        var count = 0
        while let item = try items.next() {
            guard let e = WatchEvent(history: item, zones: zones), e.belongs(to: zone) else { continue }
            try each(e)
            count += 1
        }
        return count
    }
}
