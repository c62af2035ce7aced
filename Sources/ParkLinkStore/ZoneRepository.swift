import ParkLinkProtocol

/// Zone figures from `occupancy_events`, and the `zone_occupancy` and `forecasts` tables.
public struct ZoneRepository {
    public let connection: MariaDBConnection

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    public struct ZoneFigures: Sendable, Equatable {
        public init() {}
        public var arrivalsToday = 0
        public var departuresToday = 0
        public var staysToday = 0
        public var averageStaySeconds: Double?
        public var revenueCentsToday = 0
        public var arrivalsThisHour = 0
        public var arrivalsSameHourLastWeek = 0
    }

    /// Arrivals, stays and revenue per zone, from the events. A sensor in no configured
    /// zone counts in a zone named after its gateway. Revenue: each stay billed per started
    /// hour at its zone's rate in `zoneRates`, else `hourlyRateCents`.
    public func figures(dayStartMs: Int64, hourStartMs: Int64, hourlyRateCents: Int,
                        zoneRates: [String: Int] = [:]) throws -> [String: ZoneFigures] {
        let c = connection
        var out: [String: ZoneFigures] = [:]
        let day = SQLLiteral.time(dayStartMs), hour = SQLLiteral.time(hourStartMs)
        let weekAgo = SQLLiteral.time(hourStartMs - 7 * 86_400_000), weekAgoEnd = SQLLiteral.time(hourStartMs - 7 * 86_400_000 + 3_600_000)
        for r in try c.query("""
            SELECT COALESCE(zone_id, gateway_id), SUM(event = 'arrival' AND at >= \(day)), SUM(event = 'departure' AND at >= \(day)),
                   SUM(event = 'arrival' AND at >= \(hour)), SUM(event = 'arrival' AND at >= \(weekAgo) AND at < \(weekAgoEnd))
            FROM occupancy_events
            WHERE at >= \(day) OR (at >= \(weekAgo) AND at < \(weekAgoEnd))
            GROUP BY COALESCE(zone_id, gateway_id)
            """) {
            var f = out[r[0] ?? "", default: ZoneFigures()]
            f.arrivalsToday = Int(r[1] ?? "0") ?? 0
            f.departuresToday = Int(r[2] ?? "0") ?? 0
            f.arrivalsThisHour = Int(r[3] ?? "0") ?? 0
            f.arrivalsSameHourLastWeek = Int(r[4] ?? "0") ?? 0
            out[r[0] ?? ""] = f
        }
        // A stay is an arrival followed by the same bay's departure; those that ended today.
        for r in try c.query("""
            SELECT zone, COUNT(*), AVG(stay_us) / 1000000, SUM((stay_us + 3599999999) DIV 3600000000)
            FROM (
              SELECT COALESCE(zone_id, gateway_id) AS zone, event, at,
                     LAG(event) OVER w AS prev_event,
                     TIMESTAMPDIFF(MICROSECOND, LAG(at) OVER w, at) AS stay_us
              FROM occupancy_events
              WHERE at >= \(day) - INTERVAL 2 DAY
              WINDOW w AS (PARTITION BY gateway_id, sensor_id ORDER BY at, boot_id, seq)
            ) t
            WHERE event = 'departure' AND prev_event = 'arrival' AND at >= \(day)
            GROUP BY zone
            """) {
            var f = out[r[0] ?? "", default: ZoneFigures()]
            f.staysToday = Int(r[1] ?? "0") ?? 0
            f.averageStaySeconds = r[2].flatMap { Double($0) }
            f.revenueCentsToday = (Int(r[3].flatMap { Double($0) } ?? 0)) * (zoneRates[r[0] ?? ""] ?? hourlyRateCents)
            out[r[0] ?? ""] = f
        }
        return out
    }

    /// Records the hourly rates stays are billed at, by zone ("" for the default), for the
    /// `stays` view. Rows of zones not named here stay: appliances sharing a database
    /// each record their own zones.
    public func recordTariffs(_ centsByZone: [String: Int], atMs: Int64) throws {
        guard !centsByZone.isEmpty else { return }
        let c = connection
        let values = try centsByZone.sorted { $0.key < $1.key }
            .map { "(\(try c.quoted($0.key)), \(max(0, $0.value)), \(SQLLiteral.time(atMs)))" }.joined(separator: ", ")
        _ = try c.execute("""
            INSERT INTO tariffs (zone_id, hourly_rate_cents, updated_at) VALUES \(values)
            ON DUPLICATE KEY UPDATE hourly_rate_cents = VALUES(hourly_rate_cents), updated_at = VALUES(updated_at)
            """)
    }

    public struct ZoneSample: Sendable {
        public var zoneId: String
        public var occupied: Int
        public var capacity: Int
        public var forecasts: [(horizonMinutes: Int, predicted: Double)]

        public init(zoneId: String, occupied: Int, capacity: Int, forecasts: [(horizonMinutes: Int, predicted: Double)]) {
            self.zoneId = zoneId
            self.occupied = occupied
            self.capacity = capacity
            self.forecasts = forecasts
        }
    }

    /// Records zone occupancy and forecasts (with the time they were made), and fills in
    /// the actual occupancy of forecasts whose target time has passed.
    public func record(_ samples: [ZoneSample], atMs: Int64, record: Bool, dueWindowSeconds: Int) throws {
        guard !samples.isEmpty else { return }
        let c = connection
        let at = SQLLiteral.time(atMs)
        try c.transaction {
            for s in samples {
                let zone = try c.quoted(s.zoneId)
                // Only forecasts that came due since the last runs: after downtime, older
                // ones keep `actual` NULL rather than get today's occupancy.
                _ = try c.execute("""
                    UPDATE forecasts SET actual = \(s.occupied) WHERE zone_id = \(zone) AND actual IS NULL
                    AND target_at <= \(at) AND target_at > \(at) - INTERVAL \(max(60, 2 * dueWindowSeconds)) SECOND
                    """)
                guard record else { continue }
                _ = try c.execute("INSERT IGNORE INTO zone_occupancy (zone_id, at, occupied, capacity) VALUES (\(zone), \(at), \(s.occupied), \(s.capacity))")
                for f in s.forecasts {
                    let target = SQLLiteral.time(atMs + Int64(f.horizonMinutes) * 60_000)
                    _ = try c.execute("""
                        INSERT IGNORE INTO forecasts (zone_id, made_at, horizon_minutes, target_at, predicted)
                        VALUES (\(zone), \(at), \(f.horizonMinutes), \(target), \(SQLLiteral.number(f.predicted)))
                        """)
                }
            }
        }
    }
}
