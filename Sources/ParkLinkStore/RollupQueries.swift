/// The questions a car park's manager asks, answered from the rollups (never from the raw
/// readings, which are kept only `retention_days`). Hours are UTC hours: a local-time
/// report shifts the range by its zone's offset.
public struct RollupQueries {
    public struct Question: Sendable {
        public var name: String
        public var sql: String
    }

    public let connection: MariaDBConnection

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    /// The questions over the month `[fromMs, toMs)` and, for week-over-week, the week that
    /// ends at `toMs` against the one before.
    public static func questions(fromMs: Int64, toMs: Int64) -> [Question] {
        let from = SQLLiteral.time(fromMs), to = SQLLiteral.time(toMs)
        let week = SQLLiteral.time(toMs - 7 * 86_400_000), lastWeek = SQLLiteral.time(toMs - 14 * 86_400_000)
        return [
            Question(name: "occupancy by zone and hour of day over a month", sql: """
                SELECT zone_id, HOUR(bucket_start) AS hour, SUM(occupied_readings) / SUM(readings) AS occupied_fraction,
                       SUM(arrivals) AS arrivals
                FROM rollup_zone_hour WHERE bucket_start >= \(from) AND bucket_start < \(to)
                GROUP BY zone_id, HOUR(bucket_start) ORDER BY zone_id, hour
                """),
            Question(name: "busiest hours of the month (whole car park)", sql: """
                SELECT bucket_start, SUM(occupied_readings) / SUM(readings) AS occupied_fraction, SUM(arrivals) AS arrivals
                FROM rollup_zone_hour WHERE bucket_start >= \(from) AND bucket_start < \(to)
                GROUP BY bucket_start ORDER BY occupied_fraction DESC, bucket_start LIMIT 10
                """),
            Question(name: "week over week by zone", sql: """
                SELECT zone_id,
                       SUM(IF(bucket_start >= \(week), occupied_readings, 0)) / SUM(IF(bucket_start >= \(week), readings, 0)) AS this_week,
                       SUM(IF(bucket_start < \(week), occupied_readings, 0)) / SUM(IF(bucket_start < \(week), readings, 0)) AS last_week,
                       SUM(IF(bucket_start >= \(week), arrivals, 0)) AS arrivals_this_week,
                       SUM(IF(bucket_start < \(week), arrivals, 0)) AS arrivals_last_week
                FROM rollup_zone_hour WHERE bucket_start >= \(lastWeek) AND bucket_start < \(to)
                GROUP BY zone_id ORDER BY zone_id
                """),
            Question(name: "sensors with the most alerts over a month", sql: """
                SELECT gateway_id, sensor_id, COUNT(*) AS alerts, SUM(severity = 'critical') AS critical
                FROM alerts WHERE created_at >= \(from) AND created_at < \(to) AND sensor_id IS NOT NULL
                GROUP BY gateway_id, sensor_id ORDER BY alerts DESC, gateway_id, sensor_id LIMIT 10
                """),
            Question(name: "one sensor, hour by hour over a month", sql: """
                SELECT bucket_start, occupied_readings / readings AS occupied_fraction, arrivals,
                       voltage_dv_sum / voltage_count / 10 AS voltage_v, power_w_sum / power_count AS power_w
                FROM rollup_sensor_hour
                WHERE gateway_id = 'gw-01' AND sensor_id = 7 AND bucket_start >= \(from) AND bucket_start < \(to)
                ORDER BY bucket_start
                """),
            Question(name: "the year by month (whole car park)", sql: """
                SELECT DATE_FORMAT(bucket_start, '%Y-%m') AS month, SUM(occupied_readings) / SUM(readings) AS occupied_fraction,
                       SUM(arrivals) AS arrivals
                FROM rollup_zone_hour GROUP BY DATE_FORMAT(bucket_start, '%Y-%m') ORDER BY month
                """),
        ]
    }

    /// The rows a question answers.
    public func answer(_ q: Question) throws -> [[String?]] { try connection.query(q.sql) }

    /// The server's plan for a question (`EXPLAIN`), one text line per table.
    public func plan(_ q: Question) throws -> [String] {
        try connection.query("EXPLAIN " + q.sql).map { row in
            row.map { $0 ?? "NULL" }.joined(separator: " | ")
        }
    }
}
