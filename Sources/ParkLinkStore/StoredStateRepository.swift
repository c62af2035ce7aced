import ParkLinkProtocol

/// What the database says about the garage when no daemon can: the sensors as the
/// sampler last wrote them, each gateway's last reading, the last forecasts. For
/// `parklink status` with the daemon down.
public struct StoredStateRepository {
    public let connection: MariaDBConnection

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    /// A row of `sensors`.
    public struct StoredSensor: Sendable, Equatable {
        public var key: SensorKey
        /// The configured zone it was in when the sampler last wrote it; nil: none.
        public var zoneId: String?
        public var bay: String?
        public var occupied: Bool?
        public var lastSeenMs: Int64?
        public var healthScore: Double?
        /// When the sampler last wrote the row.
        public var updatedMs: Int64
    }

    public func sensors() throws -> [StoredSensor] {
        try connection.query("""
            SELECT gateway_id, sensor_id, zone_id, bay, occupied, ROUND(UNIX_TIMESTAMP(last_seen_at) * 1000), health_score,
                   ROUND(UNIX_TIMESTAMP(updated_at) * 1000)
            FROM sensors ORDER BY gateway_id, sensor_id
            """).compactMap { r in
            guard let g = r[0], let s = r[1].flatMap({ UInt16($0) }), let updated = r[7].flatMap({ Double($0) }) else { return nil }
            return StoredSensor(key: SensorKey(gatewayId: g, sensor: s), zoneId: r[2], bay: r[3], occupied: r[4].map { $0 == "1" },
                                lastSeenMs: r[5].flatMap { Double($0) }.map { Int64($0) }, healthScore: r[6].flatMap { Double($0) },
                                updatedMs: Int64(updated))
        }
    }

    /// Each gateway's newest stored reading (of its most recent session): a range of the
    /// primary key, cheap however large `readings` is.
    public func lastReadings() throws -> [(gatewayId: String, atMs: Int64)] {
        var out: [(gatewayId: String, atMs: Int64)] = []
        for (session, next) in try ReadingHistory(connection: connection).resumePoints(sessionsPerGateway: 1).sorted(by: { $0.key.gatewayId < $1.key.gatewayId }) {
            let at = try connection.queryValue("""
                SELECT ROUND(UNIX_TIMESTAMP(received_at) * 1000) FROM readings
                WHERE gateway_id = \(try connection.quoted(session.gatewayId)) AND boot_id = \(session.bootId) AND seq = \(next - 1)
                """)
            if let ms = at.flatMap({ Double($0) }) { out.append((session.gatewayId, Int64(ms))) }
        }
        return out
    }

    /// The last forecasts recorded for each zone: horizon (minutes) → predicted occupancy,
    /// with the time they were made.
    public func latestForecasts() throws -> [String: (madeAtMs: Int64, byHorizon: [Int: Double])] {
        var out: [String: (madeAtMs: Int64, byHorizon: [Int: Double])] = [:]
        for r in try connection.query("""
            SELECT f.zone_id, ROUND(UNIX_TIMESTAMP(f.made_at) * 1000), f.horizon_minutes, f.predicted
            FROM forecasts f JOIN (SELECT zone_id, MAX(made_at) AS made_at FROM forecasts GROUP BY zone_id) l
              ON l.zone_id = f.zone_id AND l.made_at = f.made_at
            """) {
            guard let zone = r[0], let made = r[1].flatMap({ Double($0) }), let h = r[2].flatMap({ Int($0) }),
                  let p = r[3].flatMap({ Double($0) }) else { continue }
            out[zone, default: (Int64(made), [:])].byHorizon[h] = p
        }
        return out
    }

    /// Every sensor each gateway has reported, ascending: from `sensors` (the sampler's),
    /// else (no sampler ever ran) from `readings`.
    public func sensorsSeen() throws -> [String: [UInt16]] {
        var out: [String: [UInt16]] = [:]
        var rows = try connection.query("SELECT gateway_id, sensor_id FROM sensors ORDER BY gateway_id, sensor_id")
        if rows.isEmpty {
            rows = try connection.query("SELECT gateway_id, sensor_id FROM readings GROUP BY gateway_id, sensor_id ORDER BY 1, 2")
        }
        for r in rows {
            if let g = r[0], let s = r[1].flatMap({ UInt16($0) }) { out[g, default: []].append(s) }
        }
        return out
    }

    /// Arrivals since `ms` by gateway: what a first daily target can be based on.
    public func arrivalsByGateway(sinceMs ms: Int64) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for r in try connection.query("""
            SELECT gateway_id, COUNT(*) FROM occupancy_events WHERE event = 'arrival' AND at >= \(SQLLiteral.time(ms)) GROUP BY gateway_id
            """) {
            if let g = r[0], let n = r[1].flatMap({ Int($0) }) { out[g] = n }
        }
        return out
    }

    /// The schema version the database is at (0: no ParkLink schema).
    public func schemaVersion() throws -> Int {
        try Schema.appliedVersions(connection).max() ?? 0
    }
}
