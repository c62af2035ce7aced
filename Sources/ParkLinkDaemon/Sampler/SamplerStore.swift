import Foundation
import ParkLinkAnalytics
import ParkLinkStore

/// Everything the sampler reads from and writes to MariaDB, through its own connection
/// (never the writer's), so a slow or locked sampler query holds up only the sampler.
final class SamplerStore {
    let dsn: DSN
    /// Which appliance's alerts are ours (several may share the database).
    let appliance: String
    private var open: MariaDBConnection?

    init(dsn: DSN, appliance: String) {
        self.dsn = dsn
        self.appliance = appliance
    }

    deinit { open?.close() }

    var isConnected: Bool { open != nil }

    func connection() throws -> MariaDBConnection {
        if let c = open { return c }
        let c = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(3), readTimeout: .seconds(60), writeTimeout: .seconds(60))
        _ = try Schema.migrate(c)
        open = c
        return c
    }

    func drop() {
        open?.close()
        open = nil
    }

    // MARK: Alerts

    /// Open alerts and the next id, to resume the alert book after a restart.
    func loadAlertBook() throws -> AlertBook {
        let c = try connection()
        let me = try c.quoted(appliance)
        let next = UInt64(try c.queryValue("SELECT COALESCE(MAX(id), 0) + 1 FROM alerts WHERE appliance = \(me)") ?? "1") ?? 1
        var active: [Alert] = []
        for r in try c.query("""
            SELECT id, type, severity, subject, gateway_id, sensor_id, message,
                   ROUND(UNIX_TIMESTAMP(created_at) * 1000), ROUND(UNIX_TIMESTAMP(acknowledged_at) * 1000)
            FROM alerts WHERE appliance = \(me) AND resolved_at IS NULL
            """) {
            guard let id = r[0].flatMap({ UInt64($0) }), let type = r[1].flatMap({ AlertType(rawValue: $0) }),
                  let severity = r[2].flatMap({ AlertSeverity(rawValue: $0) }), let subjectText = r[3],
                  let created = r[7].flatMap({ Double($0) }) else { continue }
            let subject: AlertSubject
            if let g = r[4], let s = r[5].flatMap({ UInt16($0) }) {
                subject = .sensor(gateway: g, sensor: s)
            } else if let comp = AlertSubject.Component(rawValue: subjectText) {
                subject = .component(comp)
            } else { continue }
            active.append(Alert(id: id, subject: subject, type: type, severity: severity, message: r[6] ?? "",
                                openedAtMs: Int64(created), acknowledgedAtMs: r[8].flatMap { Double($0) }.map { Int64($0) }))
        }
        return AlertBook(nextId: next, active: active)
    }

    func write(_ transitions: [AlertTransition]) throws {
        guard !transitions.isEmpty else { return }
        let c = try connection()
        try c.transaction {
            for t in transitions {
                switch t {
                case .opened(let a):
                    var gateway: MariaDBValue = .null, sensor: MariaDBValue = .null
                    if case .sensor(let g, let s) = a.subject {
                        gateway = .string(g)
                        sensor = .uint(UInt64(s))
                    }
                    _ = try c.prepare("""
                        INSERT IGNORE INTO alerts (appliance, id, type, severity, subject, gateway_id, sensor_id, message, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """).execute([.string(appliance), .uint(a.id), .string(a.type.rawValue), .string(a.severity.rawValue),
                                      .string(a.subject.description), gateway, sensor,
                                      .string(String(a.message.prefix(255))), .dateTime(millisecondsSinceEpoch: a.openedAtMs)])
                case .resolved(let a):
                    _ = try c.prepare("UPDATE alerts SET resolved_at = ? WHERE appliance = ? AND id = ?")
                        .execute([.dateTime(millisecondsSinceEpoch: a.resolvedAtMs ?? 0), .string(appliance), .uint(a.id)])
                case .acknowledged(let a):
                    _ = try c.prepare("UPDATE alerts SET acknowledged_at = ? WHERE appliance = ? AND id = ?")
                        .execute([.dateTime(millisecondsSinceEpoch: a.acknowledgedAtMs ?? 0), .string(appliance), .uint(a.id)])
                }
            }
        }
    }

    // MARK: Sensors

    struct SensorRow {
        var key: SensorKey
        var zoneId: String?
        var bay: String?
        var occupied: Bool
        var lastSeenMs: Int64?
        var health: HealthScore
        var voltageMean: Double?
        var powerMean: Double?
    }

    /// Upserts the sensors table, 500 rows a statement.
    func upsertSensors(_ rows: [SensorRow], nowMs: Int64) throws {
        guard !rows.isEmpty else { return }
        let c = try connection()
        let now = try sqlTime(nowMs)
        try c.transaction {
            for chunk in stride(from: 0, to: rows.count, by: 500).map({ rows[$0..<min($0 + 500, rows.count)] }) {
                var sql = "INSERT INTO sensors (gateway_id, sensor_id, zone_id, bay, occupied, last_seen_at, health_score, voltage_mean_v, power_mean_w, updated_at) VALUES "
                var first = true
                for r in chunk {
                    if !first { sql += "," }
                    first = false
                    sql += "(\(try c.quoted(r.key.gatewayId)),\(r.key.sensor),\(try r.zoneId.map(c.quoted) ?? "NULL"),"
                    sql += "\(try r.bay.map(c.quoted) ?? "NULL"),\(r.occupied ? 1 : 0),\(try r.lastSeenMs.map(sqlTime) ?? "NULL"),"
                    sql += "\(number(r.health.total)),\(r.voltageMean.map(number) ?? "NULL"),\(r.powerMean.map(number) ?? "NULL"),\(now))"
                }
                sql += """
                     ON DUPLICATE KEY UPDATE zone_id = VALUES(zone_id), bay = VALUES(bay), occupied = VALUES(occupied),
                     last_seen_at = VALUES(last_seen_at), health_score = VALUES(health_score),
                     voltage_mean_v = VALUES(voltage_mean_v), power_mean_w = VALUES(power_mean_w), updated_at = VALUES(updated_at)
                    """
                _ = try c.execute(sql)
            }
        }
    }

    func appendHealthHistory(_ rows: [SensorRow], atMs: Int64) throws {
        guard !rows.isEmpty else { return }
        let c = try connection()
        let at = try sqlTime(atMs)
        try c.transaction {
            for chunk in stride(from: 0, to: rows.count, by: 500).map({ rows[$0..<min($0 + 500, rows.count)] }) {
                var sql = "INSERT IGNORE INTO sensor_health_history (gateway_id, sensor_id, at, score, recency, voltage, power, alerts) VALUES "
                sql += try chunk.map { r in
                    let h = r.health
                    return "(\(try c.quoted(r.key.gatewayId)),\(r.key.sensor),\(at),\(number(h.total)),\(number(h.recency)),\(number(h.voltage)),\(number(h.power)),\(number(h.alerts)))"
                }.joined(separator: ",")
                _ = try c.execute(sql)
            }
        }
    }

    // MARK: Zones and forecasts

    struct ZoneFigures {
        var arrivalsToday = 0
        var departuresToday = 0
        var staysToday = 0
        var averageStaySeconds: Double?
        var revenueCentsToday = 0
        var arrivalsThisHour = 0
        var arrivalsSameHourLastWeek = 0
    }

    /// Arrivals, stays and revenue per zone (key "" for unmapped sensors), from the events.
    func zoneFigures(dayStartMs: Int64, hourStartMs: Int64, hourlyRateCents: Int) throws -> [String: ZoneFigures] {
        let c = try connection()
        var out: [String: ZoneFigures] = [:]
        let day = try sqlTime(dayStartMs), hour = try sqlTime(hourStartMs)
        let weekAgo = try sqlTime(hourStartMs - 7 * 86_400_000), weekAgoEnd = try sqlTime(hourStartMs - 7 * 86_400_000 + 3_600_000)
        for r in try c.query("""
            SELECT COALESCE(zone_id, ''), SUM(event = 'arrival' AND at >= \(day)), SUM(event = 'departure' AND at >= \(day)),
                   SUM(event = 'arrival' AND at >= \(hour)), SUM(event = 'arrival' AND at >= \(weekAgo) AND at < \(weekAgoEnd))
            FROM occupancy_events
            WHERE at >= \(day) OR (at >= \(weekAgo) AND at < \(weekAgoEnd))
            GROUP BY zone_id
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
            SELECT COALESCE(zone_id, ''), COUNT(*), AVG(stay_s), SUM(CEIL(stay_s / 3600))
            FROM (
              SELECT zone_id, event, at,
                     LAG(event) OVER w AS prev_event,
                     TIMESTAMPDIFF(MICROSECOND, LAG(at) OVER w, at) / 1000000 AS stay_s
              FROM occupancy_events
              WHERE at >= \(day) - INTERVAL 2 DAY
              WINDOW w AS (PARTITION BY gateway_id, sensor_id ORDER BY at, boot_id, seq)
            ) t
            WHERE event = 'departure' AND prev_event = 'arrival' AND at >= \(day)
            GROUP BY zone_id
            """) {
            var f = out[r[0] ?? "", default: ZoneFigures()]
            f.staysToday = Int(r[1] ?? "0") ?? 0
            f.averageStaySeconds = r[2].flatMap { Double($0) }
            f.revenueCentsToday = (Int(r[3].flatMap { Double($0) } ?? 0)) * hourlyRateCents
            out[r[0] ?? ""] = f
        }
        return out
    }

    struct ZoneSample {
        var zoneId: String
        var occupied: Int
        var capacity: Int
        var forecasts: [(horizonMinutes: Int, predicted: Double)]
    }

    /// Records zone occupancy and forecasts (with the time they were made), and fills in
    /// the actual occupancy of forecasts whose target time has passed.
    func recordZones(_ samples: [ZoneSample], atMs: Int64, record: Bool, dueWindowSeconds: Int) throws {
        guard !samples.isEmpty else { return }
        let c = try connection()
        let at = try sqlTime(atMs)
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
                    let target = try sqlTime(atMs + Int64(f.horizonMinutes) * 60_000)
                    _ = try c.execute("""
                        INSERT IGNORE INTO forecasts (zone_id, made_at, horizon_minutes, target_at, predicted)
                        VALUES (\(zone), \(at), \(f.horizonMinutes), \(target), \(number(f.predicted)))
                        """)
                }
            }
        }
    }

    // MARK: Formatting

    private func number(_ d: Double) -> String {
        d.isFinite ? String(format: "%.3f", d) : "NULL"
    }

    /// A DATETIME(3) literal in UTC (the connection's time zone is +00:00).
    func sqlTime(_ ms: Int64) throws -> String {
        let d = Date(timeIntervalSince1970: Double(ms) / 1000)
        return "'" + formatter.string(from: d) + "'"
    }

    /// Used by the sampler thread only (DateFormatter is not thread-safe).
    private let formatter: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        return f
    }()
}
