import ParkLinkProtocol

/// A sensor's row in `sensors` and, once a minute, in `sensor_health_history`.
public struct SensorRecord: Sendable {
    public var key: SensorKey
    public var zoneId: String?
    public var bay: String?
    public var occupied: Bool
    public var lastSeenMs: Int64?
    /// The health score (0–100) and its four parts.
    public var score: Double
    public var recency: Double
    public var voltage: Double
    public var power: Double
    public var alerts: Double
    public var voltageMean: Double?
    public var powerMean: Double?

    public init(key: SensorKey, zoneId: String?, bay: String?, occupied: Bool, lastSeenMs: Int64?, score: Double,
                recency: Double, voltage: Double, power: Double, alerts: Double, voltageMean: Double?, powerMean: Double?) {
        self.key = key
        self.zoneId = zoneId
        self.bay = bay
        self.occupied = occupied
        self.lastSeenMs = lastSeenMs
        self.score = score
        self.recency = recency
        self.voltage = voltage
        self.power = power
        self.alerts = alerts
        self.voltageMean = voltageMean
        self.powerMean = powerMean
    }
}

/// The `sensors` and `sensor_health_history` tables.
public struct SensorRepository {
    public let connection: MariaDBConnection

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    /// Where each bay stood when the appliance last ran, and since when: the `sensors`
    /// table (the sampler's, a few seconds behind), overridden by the newest `tail`
    /// readings of each gateway's latest session (a range of the primary key: cheap
    /// however large the table).
    public func lastKnownOccupancy(tail: UInt64 = 100_000) throws -> [SensorKey: (occupied: Bool, atMs: Int64)] {
        var known: [SensorKey: (occupied: Bool, atMs: Int64)] = [:]
        for row in try connection.query("""
            SELECT gateway_id, sensor_id, occupied, ROUND(UNIX_TIMESTAMP(last_seen_at) * 1000) FROM sensors
            WHERE occupied IS NOT NULL AND last_seen_at IS NOT NULL
            """) {
            if let g = row[0], let s = row[1].flatMap({ UInt16($0) }), let o = row[2], let at = row[3].flatMap({ Double($0) }) {
                known[SensorKey(gatewayId: g, sensor: s)] = (o == "1", Int64(at))
            }
        }
        for (session, next) in try ReadingHistory(connection: connection).resumePoints(sessionsPerGateway: 1) {
            let from = next > tail ? next - tail : 0
            for row in try connection.query("""
                SELECT sensor_id, occupied, ROUND(UNIX_TIMESTAMP(received_at) * 1000) FROM readings
                WHERE gateway_id = \(try connection.quoted(session.gatewayId)) AND boot_id = \(session.bootId) AND seq >= \(from)
                ORDER BY seq
                """) {
                guard let s = row[0].flatMap({ UInt16($0) }), let o = row[1], let at = row[2].flatMap({ Double($0) }) else { continue }
                let key = SensorKey(gatewayId: session.gatewayId, sensor: s)
                if Int64(at) >= known[key]?.atMs ?? .min { known[key] = (o == "1", Int64(at)) }
            }
        }
        return known
    }

    /// Upserts `sensors`, 500 rows a statement, in one transaction.
    public func upsert(_ rows: [SensorRecord], nowMs: Int64) throws {
        guard !rows.isEmpty else { return }
        let c = connection
        let now = SQLLiteral.time(nowMs)
        try c.transaction {
            for chunk in Self.chunks(rows) {
                var sql = "INSERT INTO sensors (gateway_id, sensor_id, zone_id, bay, occupied, last_seen_at, health_score, voltage_mean_v, power_mean_w, updated_at) VALUES "
                sql += try chunk.map { r in
                    "(\(try c.quoted(r.key.gatewayId)),\(r.key.sensor),\(try r.zoneId.map(c.quoted) ?? "NULL"),"
                        + "\(try r.bay.map(c.quoted) ?? "NULL"),\(r.occupied ? 1 : 0),\(r.lastSeenMs.map(SQLLiteral.time) ?? "NULL"),"
                        + "\(SQLLiteral.number(r.score)),\(r.voltageMean.map(SQLLiteral.number) ?? "NULL"),"
                        + "\(r.powerMean.map(SQLLiteral.number) ?? "NULL"),\(now))"
                }.joined(separator: ",")
                sql += """
                     ON DUPLICATE KEY UPDATE zone_id = VALUES(zone_id), bay = VALUES(bay), occupied = VALUES(occupied),
                     last_seen_at = VALUES(last_seen_at), health_score = VALUES(health_score),
                     voltage_mean_v = VALUES(voltage_mean_v), power_mean_w = VALUES(power_mean_w), updated_at = VALUES(updated_at)
                    """
                _ = try c.execute(sql)
            }
        }
    }

    /// Appends one history row per sensor at `atMs` (a replay of the same minute is ignored).
    public func appendHistory(_ rows: [SensorRecord], atMs: Int64) throws {
        guard !rows.isEmpty else { return }
        let c = connection
        let at = SQLLiteral.time(atMs)
        let n = SQLLiteral.number
        try c.transaction {
            for chunk in Self.chunks(rows) {
                var sql = "INSERT IGNORE INTO sensor_health_history (gateway_id, sensor_id, at, score, recency, voltage, power, alerts) VALUES "
                sql += try chunk.map { r in
                    "(\(try c.quoted(r.key.gatewayId)),\(r.key.sensor),\(at),\(n(r.score)),\(n(r.recency)),\(n(r.voltage)),\(n(r.power)),\(n(r.alerts)))"
                }.joined(separator: ",")
                _ = try c.execute(sql)
            }
        }
    }

    private static func chunks(_ rows: [SensorRecord]) -> [ArraySlice<SensorRecord>] {
        stride(from: 0, to: rows.count, by: 500).map { rows[$0..<min($0 + 500, rows.count)] }
    }
}
