import ParkLinkProtocol

/// The queries behind `parklink report`: occupancy events over a period (streamed),
/// the stays view, alerts and health by sensor, forecast errors. Times are UTC
/// milliseconds; a period is `[fromMs, toMs)`. A zone is the configured one, else the
/// gateway's (a sensor in no configured zone counts in a zone named after its gateway).
public struct ReportRepository {
    public let connection: MariaDBConnection

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    /// One arrival or departure.
    public struct Event: Sendable, Equatable {
        public var gatewayId: String
        public var sensor: UInt16
        public var zone: String
        /// The zone is a configured one (`zone_id` recorded), not the gateway's.
        public var configured: Bool
        public var arrival: Bool
        public var atMs: Int64

        public init(gatewayId: String, sensor: UInt16, zone: String, configured: Bool, arrival: Bool, atMs: Int64) {
            self.gatewayId = gatewayId
            self.sensor = sensor
            self.zone = zone
            self.configured = configured
            self.arrival = arrival
            self.atMs = atMs
        }
    }

    private static let zoneExpression = "COALESCE(zone_id, gateway_id)"

    private func zoneCondition(_ zone: String?, _ expression: String = zoneExpression) throws -> String {
        try zone.map { " AND \(expression) = \(try connection.quoted($0))" } ?? ""
    }

    /// Calls `body` with each event of the period in time order, streamed (one in memory
    /// at a time).
    public func forEachEvent(fromMs: Int64, toMs: Int64, zone: String?, _ body: (Event) throws -> Void) throws {
        try connection.stream("""
            SELECT gateway_id, sensor_id, \(Self.zoneExpression), event = 'arrival', ROUND(UNIX_TIMESTAMP(at) * 1000),
                   zone_id IS NOT NULL
            FROM occupancy_events
            WHERE at >= \(SQLLiteral.time(fromMs)) AND at < \(SQLLiteral.time(toMs))\(try zoneCondition(zone))
            ORDER BY at, gateway_id, boot_id, seq
            """) { row in
            guard let g = row.string(0), let s = row.string(1).flatMap({ UInt16($0) }), let z = row.string(2),
                  let at = row.string(4).flatMap({ Double($0) }) else { return }
            try body(Event(gatewayId: g, sensor: s, zone: z, configured: row.string(5) == "1", arrival: row.string(3) == "1",
                           atMs: Int64(at)))
        }
    }

    /// Each bay's last event before `ms`: where it stood when the period began.
    public func lastEvents(before ms: Int64, zone: String?) throws -> [Event] {
        try connection.query("""
            SELECT gateway_id, sensor_id, zone, event = 'arrival', ROUND(UNIX_TIMESTAMP(at) * 1000), zone_id IS NOT NULL FROM (
              SELECT gateway_id, sensor_id, zone_id, \(Self.zoneExpression) AS zone, event, at,
                     ROW_NUMBER() OVER (PARTITION BY gateway_id, sensor_id ORDER BY at DESC, boot_id DESC, seq DESC) AS newest
              FROM occupancy_events WHERE at < \(SQLLiteral.time(ms))
            ) t WHERE newest = 1\(try zoneCondition(zone, "zone"))
            """).compactMap { r in
            guard let g = r[0], let s = r[1].flatMap({ UInt16($0) }), let z = r[2], let at = r[4].flatMap({ Double($0) }) else { return nil }
            return Event(gatewayId: g, sensor: s, zone: z, configured: r[5] == "1", arrival: r[3] == "1", atMs: Int64(at))
        }
    }

    /// Stays that ended in the period, by zone (from the `stays` view).
    public struct StayTotals: Sendable, Equatable {
        public var stays = 0
        public var totalSeconds = 0.0
        /// Sum of `amount_cents`; stays without a recorded rate count in `unpriced`.
        public var amountCents = 0
        public var unpriced = 0
        public init() {}
    }

    public func stays(fromMs: Int64, toMs: Int64, zone: String?) throws -> [String: StayTotals] {
        var out: [String: StayTotals] = [:]
        for r in try connection.query("""
            SELECT zone_id, COUNT(*), COALESCE(SUM(duration_seconds), 0), COALESCE(SUM(amount_cents), 0), SUM(amount_cents IS NULL)
            FROM stays WHERE left_at >= \(SQLLiteral.time(fromMs)) AND left_at < \(SQLLiteral.time(toMs))\(try zoneCondition(zone, "zone_id"))
            GROUP BY zone_id
            """) {
            guard let z = r[0] else { continue }
            var t = StayTotals()
            t.stays = r[1].flatMap { Int($0) } ?? 0
            t.totalSeconds = r[2].flatMap { Double($0) } ?? 0
            t.amountCents = r[3].flatMap { Int($0) } ?? 0
            t.unpriced = r[4].flatMap { Int($0) } ?? 0
            out[z] = t
        }
        return out
    }

    /// How many sensors each zone has, from `sensors` (the sampler's list of what reported).
    public func sensorCounts() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for r in try connection.query("SELECT \(Self.zoneExpression), COUNT(*) FROM sensors GROUP BY 1") {
            if let z = r[0], let n = r[1].flatMap({ Int($0) }) { out[z] = n }
        }
        return out
    }

    /// A sensor and a figure (alerts raised, mean health).
    public struct SensorFigure: Sendable, Equatable {
        public var key: SensorKey
        public var value: Double
        /// The lowest score in the period (health only).
        public var minimum: Double?
    }

    private func sensorZoneCondition(_ zone: String?, alias: String) throws -> String {
        guard let zone else { return "" }
        return """
             AND EXISTS (SELECT 1 FROM sensors s WHERE s.gateway_id = \(alias).gateway_id AND s.sensor_id = \(alias).sensor_id
                         AND COALESCE(s.zone_id, s.gateway_id) = \(try connection.quoted(zone)))
            """
    }

    /// The sensors with the most alerts raised in the period (every appliance's), most first.
    public func mostAlerts(fromMs: Int64, toMs: Int64, zone: String?, limit: Int) throws -> [SensorFigure] {
        try connection.query("""
            SELECT a.gateway_id, a.sensor_id, COUNT(*) FROM alerts a
            WHERE a.sensor_id IS NOT NULL AND a.gateway_id IS NOT NULL
              AND a.created_at >= \(SQLLiteral.time(fromMs)) AND a.created_at < \(SQLLiteral.time(toMs))\(try sensorZoneCondition(zone, alias: "a"))
            GROUP BY a.gateway_id, a.sensor_id ORDER BY COUNT(*) DESC, a.gateway_id, a.sensor_id LIMIT \(limit)
            """).compactMap(Self.figure)
    }

    /// The sensors with the lowest mean health score over the period (from the history),
    /// lowest first.
    public func lowestHealth(fromMs: Int64, toMs: Int64, zone: String?, limit: Int) throws -> [SensorFigure] {
        try connection.query("""
            SELECT h.gateway_id, h.sensor_id, AVG(h.score), MIN(h.score) FROM sensor_health_history h
            WHERE h.at >= \(SQLLiteral.time(fromMs)) AND h.at < \(SQLLiteral.time(toMs))\(try sensorZoneCondition(zone, alias: "h"))
            GROUP BY h.gateway_id, h.sensor_id ORDER BY AVG(h.score), h.gateway_id, h.sensor_id LIMIT \(limit)
            """).compactMap(Self.figure)
    }

    private static func figure(_ r: [String?]) -> SensorFigure? {
        guard let g = r[0], let s = r[1].flatMap({ UInt16($0) }), let v = r[2].flatMap({ Double($0) }) else { return nil }
        return SensorFigure(key: SensorKey(gatewayId: g, sensor: s), value: v, minimum: r.count > 3 ? r[3].flatMap { Double($0) } : nil)
    }

    /// The error of the forecasts whose target time fell in the period and whose actual
    /// occupancy is known, by horizon.
    public struct ForecastError: Sendable, Equatable {
        public var horizonMinutes: Int
        public var count: Int
        public var meanAbsolute: Double
        public var rootMeanSquare: Double
        /// Mean of predicted − actual: above 0, the forecasts ran high.
        public var bias: Double
    }

    public func forecastErrors(fromMs: Int64, toMs: Int64, zone: String?) throws -> [ForecastError] {
        try connection.query("""
            SELECT horizon_minutes, COUNT(*), AVG(ABS(predicted - actual)), SQRT(AVG(POW(predicted - actual, 2))), AVG(predicted - actual)
            FROM forecasts
            WHERE actual IS NOT NULL AND target_at >= \(SQLLiteral.time(fromMs)) AND target_at < \(SQLLiteral.time(toMs))\(try zoneCondition(zone, "zone_id"))
            GROUP BY horizon_minutes ORDER BY horizon_minutes
            """).compactMap { r in
            guard let h = r[0].flatMap({ Int($0) }), let n = r[1].flatMap({ Int($0) }), let mae = r[2].flatMap({ Double($0) }),
                  let rmse = r[3].flatMap({ Double($0) }), let bias = r[4].flatMap({ Double($0) }) else { return nil }
            return ForecastError(horizonMinutes: h, count: n, meanAbsolute: mae, rootMeanSquare: rmse, bias: bias)
        }
    }

    /// The recorded rates (`tariffs`), by zone ("" the default).
    public func tariffs() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for r in try connection.query("SELECT zone_id, hourly_rate_cents FROM tariffs") {
            if let z = r[0], let c = r[1].flatMap({ Int($0) }) { out[z] = c }
        }
        return out
    }
}
