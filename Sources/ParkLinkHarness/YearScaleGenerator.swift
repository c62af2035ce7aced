import ParkLinkStore

/// Builds a year of simulated data for the year-scale figures (`parklink db year-scale`,
/// hidden: a benchmark, not a product feature), server-side (`INSERT … SELECT` over the
/// Sequence engine's `seq_*` tables), so that it takes minutes, not days.
///
/// 500 sensors at 1 reading/s for a year would be 15.8 billion raw rows (about 1 TB),
/// and the appliance keeps raw rows only `retention_days` anyway: the questions of a year
/// are answered from the rollups. So it generates what a year of that traffic leaves:
/// - `rollup_sensor_hour`: every sensor, every hour of the year (each bucket counts 3,600
///   readings less a few dropped), from an occupancy model (weekday and weekend daily
///   curves, a factor per zone, a deterministic per-bucket noise);
/// - `rollup_zone_hour`: summed from those rows, exactly as the rollup job sums them;
/// - `rollup_sensor_5m` and `rollup_zone_5m`: the last `fiveMinuteDays` days only;
/// - `alerts`: about 20 a day for the year, skewed towards a few sensors;
/// - raw `readings`: the last `rawMinutes` minutes at 1 reading/s per sensor, in the
///   day's partition, which the real rollup job then rolls up (timed separately).
public struct YearScaleGenerator {
    public struct Shape: Sendable {
        public var gateways = 5
        public var sensorsPerGateway = 100
        public var sensorsPerZone = 50
        public var days = 365
        public var fiveMinuteDays = 14
        public var rawMinutes = 60
        public init() {}
    }

    public let connection: MariaDBConnection
    public let shape: Shape
    /// Midnight UTC that ends the year (ms since 1970).
    public let endMs: Int64

    public init(connection: MariaDBConnection, shape: Shape = Shape(), endMs: Int64) {
        self.connection = connection
        self.shape = shape
        self.endMs = endMs
    }

    /// Gateway `gw-01`… and sensor id from a sensor number (0-based) in column `n`.
    private func sensorColumns(_ n: String = "n") -> String {
        "CONCAT('gw-', LPAD(\(n) DIV \(shape.sensorsPerGateway) + 1, 2, '0')), \(n) MOD \(shape.sensorsPerGateway)"
    }

    /// Each step with its rows, in order, for the caller to time and print.
    public func steps() -> [(name: String, run: () throws -> UInt64)] {
        let sensors = shape.gateways * shape.sensorsPerGateway
        let hours = shape.days * 24
        let start = endMs - Int64(shape.days) * 86_400_000
        let start5m = endMs - Int64(shape.fiveMinuteDays) * 86_400_000
        let c = connection
        return [
            ("empty the rollups, alerts, sensors and readings", {
                for t in ["rollup_sensor_5m", "rollup_sensor_hour", "rollup_zone_5m", "rollup_zone_hour", "rollup_progress", "rollup_seq_ranges",
                          "alerts", "sensors", "readings", "occupancy_events"] {
                    try c.execute("TRUNCATE TABLE \(t)")
                }
                return 0
            }),
            ("sensors and their zones", {
                try c.execute("""
                    INSERT INTO sensors (gateway_id, sensor_id, zone_id, updated_at)
                    SELECT \(sensorColumns()), CONCAT('Z', LPAD(n DIV \(shape.sensorsPerZone) + 1, 2, '0')), UTC_TIMESTAMP(3)
                    FROM (SELECT seq AS n FROM seq_0_to_\(sensors - 1)) s
                    """)
            }),
            ("rollup_sensor_hour, \(sensors) sensors x \(hours) hours", {
                try c.execute("INSERT INTO rollup_sensor_hour " + model(sensors: sensors, buckets: hours, seconds: 3_600, startMs: start))
            }),
            ("rollup_zone_hour, summed from rollup_sensor_hour", {
                try c.execute(ReadingRollups.zoneSums(from: "rollup_sensor_hour", into: "rollup_zone_hour", where: "TRUE"))
            }),
            ("rollup_sensor_5m, the last \(shape.fiveMinuteDays) days", {
                try c.execute("INSERT INTO rollup_sensor_5m "
                              + model(sensors: sensors, buckets: shape.fiveMinuteDays * 288, seconds: 300, startMs: start5m))
            }),
            ("rollup_zone_5m, summed from rollup_sensor_5m", {
                try c.execute(ReadingRollups.zoneSums(from: "rollup_sensor_5m", into: "rollup_zone_5m", where: "TRUE"))
            }),
            ("alerts, about 20 a day", {
                try c.execute("""
                    INSERT INTO alerts (appliance, id, type, severity, subject, gateway_id, sensor_id, message, created_at, resolved_at)
                    SELECT 'year-scale', seq, ELT(1 + seq MOD 4, 'LOW_VOLTAGE', 'HIGH_POWER', 'DEVICE_OFFLINE', 'LOW_HEALTH'),
                           IF(seq MOD 7 = 0, 'critical', 'warning'),
                           CONCAT('gw-', LPAD(n DIV \(shape.sensorsPerGateway) + 1, 2, '0'), '/', n MOD \(shape.sensorsPerGateway)),
                           \(sensorColumns()), 'simulated', at, at + INTERVAL 10 MINUTE
                    FROM (SELECT seq, FLOOR(POW(CRC32(CONCAT('a', seq)) MOD 1000 / 1000, 3) * \(sensors)) AS n,
                                 FROM_UNIXTIME(\(start / 1000) + FLOOR(seq * 86400 / 20) + CRC32(CONCAT('t', seq)) MOD 3600) AS at
                          FROM seq_0_to_\(shape.days * 20 - 1)) a
                    """)
            }),
            ("readings, the last \(shape.rawMinutes) minutes at 1 reading/s per sensor", {
                try ReadingPartitions(connection: c).maintain(nowMs: endMs - 1)
                return try c.execute("""
                    INSERT INTO readings (gateway_id, boot_id, seq, sensor_id, received_at, gateway_ms, occupied, distance_cm,
                                          voltage_dv, current_ma, power_factor_pct)
                    SELECT CONCAT('gw-', LPAD(s.n DIV \(shape.sensorsPerGateway) + 1, 2, '0')), 1,
                           t.seq * \(shape.sensorsPerGateway) + s.n MOD \(shape.sensorsPerGateway), s.n MOD \(shape.sensorsPerGateway),
                           FROM_UNIXTIME(\((endMs - Int64(shape.rawMinutes) * 60_000) / 1000) + t.seq + (s.n MOD 1000) / 1000),
                           t.seq * 1000, CRC32(CONCAT(s.n, '-', t.seq DIV 900)) MOD 2, 120, 2300 + s.n MOD 40, 50 + s.n MOD 400, 90
                    FROM (SELECT seq AS n FROM seq_0_to_\(sensors - 1)) s JOIN seq_0_to_\(shape.rawMinutes * 60 - 1) t
                    ORDER BY 1, 3
                    """)
            }),
        ]
    }

    /// `SELECT` of rollup rows from the occupancy model, one per sensor and bucket.
    private func model(sensors: Int, buckets: Int, seconds: Int, startMs: Int64) -> String {
        let readingsPerBucket = seconds  // 1 reading/s
        return """
            (gateway_id, sensor_id, bucket_start, readings, occupied_readings, arrivals, voltage_dv_sum, voltage_count,
             power_w_sum, power_count)
            SELECT \(sensorColumns()), at, r, ROUND(r * p), ROUND(p * \(seconds) / 1200 * (0.5 + noise)),
                   r * (2280 + n MOD 40), r, ROUND(p * r * (150 + n MOD 100) + (1 - p) * r * 2, 3), r
            FROM (
              SELECT n, at, \(readingsPerBucket) - CRC32(CONCAT(n, '-', b)) MOD 4 AS r, noise,
                     LEAST(0.98, GREATEST(0.02, (0.55 + (n DIV \(shape.sensorsPerZone)) * 0.04)
                       * IF(WEEKDAY(at) < 5, 0.15 + 0.8 * EXP(-POW(HOUR(at) + MINUTE(at) / 60 - 13, 2) / 18),
                                              0.10 + 0.5 * EXP(-POW(HOUR(at) + MINUTE(at) / 60 - 15, 2) / 12))
                       + (noise - 0.5) * 0.2)) AS p
              FROM (SELECT s.seq AS n, b.seq AS b, FROM_UNIXTIME(\(startMs / 1000) + b.seq * \(seconds)) AS at,
                           CRC32(CONCAT(s.seq, ':', b.seq)) MOD 1000 / 1000 AS noise
                    FROM seq_0_to_\(sensors - 1) s JOIN seq_0_to_\(buckets - 1) b) x
            ) y
            """
    }
}
