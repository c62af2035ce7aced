import Foundation
import ParkLinkAnalytics
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkStore
import ParkLinkSystem

/// `parklink status --json` when the daemon does not answer: the live snapshot's keys, each
/// one only a running daemon knows (pid, link, ring, store, spool, accounting) `null`, the
/// sampler's sections rebuilt from the database, and `stored` saying how old they are.
public struct StoredStatusSnapshot: Codable, Sendable {
    public var version = 1
    @ExplicitNull public var pid: Int32?
    @ExplicitNull public var started_at: String?
    @ExplicitNull public var uptime_seconds: Double?
    /// From `STATE/running`: false when the last run was killed; null without the state directory.
    @ExplicitNull public var last_run_stopped_cleanly: Bool?
    @ExplicitNull public var link: StatusSnapshot.Link?
    @ExplicitNull public var ring: StatusSnapshot.Ring?
    @ExplicitNull public var store: StatusSnapshot.Store?
    @ExplicitNull public var spool: StatusSnapshot.Spool?
    @ExplicitNull public var accounting: StatusSnapshot.Accounting?
    @ExplicitNull public var sampler: [String: JSONValue]?
    /// The live side (LEDs, watch streams, notifier) exists only in a running daemon.
    @ExplicitNull public var live: StatusSnapshot.Live?
    @ExplicitNull public var stored: StatusSnapshot.Stored?

    public func json() throws -> String { try StatusProtocol.json(self) }
}

/// Builds the stored status from the database.
public enum StoredStatus {
    public struct Inputs {
        public var config: ApplianceConfig?
        public var state: StateDirectory
        public var calendar: LocalCalendar
        /// Why the daemon did not answer.
        public var reason: String
        public var nowMs: Int64

        public init(config: ApplianceConfig?, state: StateDirectory, calendar: LocalCalendar, reason: String, nowMs: Int64) {
            self.config = config
            self.state = state
            self.calendar = calendar
            self.reason = reason
            self.nowMs = nowMs
        }
    }

    public static func build(_ c: MariaDBConnection, _ input: Inputs) throws -> StoredStatusSnapshot {
        let repo = StoredStateRepository(connection: c)
        let sensors = try repo.sensors()
        let readings = try repo.lastReadings()
        let config = input.config ?? ApplianceConfig()
        let appliance = String((ProcessInfo.processInfo.hostName + ":" + input.state.path).prefix(191))
        let open = try AlertRepository(connection: c, appliance: appliance).open()

        // Zones as the sampler counts them: configured, else named after the gateway.
        var unmapped: [String: Int] = [:]
        var occupied: [String: Int] = [:]
        for s in sensors {
            let configured = config.zones.zones.isEmpty ? s.zoneId : config.zones.zoneId(of: s.key.sensor)
            if configured == nil { unmapped[s.key.gatewayId, default: 0] += 1 }
            if s.occupied == true { occupied[configured ?? s.key.gatewayId, default: 0] += 1 }
        }
        var zones = config.zones.effectiveZones(unmapped: unmapped)
        if config.zones.isEmpty {
            // No config given: the zones the sampler last wrote, sized by their sensors.
            var counts: [String: Int] = [:]
            for s in sensors { counts[s.zoneId ?? s.key.gatewayId, default: 0] += 1 }
            zones = counts.keys.sorted().map { Zone(id: $0, facility: $0, capacity: counts[$0]!, dailyTarget: nil, sensors: []) }
        }
        let day = input.calendar.startOfDay(input.calendar.today(nowMs: input.nowMs))!
        let hour = day + (input.nowMs - day) / 3_600_000 * 3_600_000
        let tariffs = try ReportRepository(connection: c).tariffs()
        let rates = input.config.map { cfg in cfg.zones.zones.reduce(into: [String: Int]()) { $0[$1.id] = $1.hourlyRateCents ?? cfg.hourlyRateCents } } ?? tariffs
        let defaultRate = input.config?.hourlyRateCents ?? tariffs[""] ?? 0
        let figures = try ZoneRepository(connection: c).figures(dayStartMs: day, hourStartMs: hour, hourlyRateCents: defaultRate,
                                                                zoneRates: rates)
        let forecasts = try repo.latestForecasts()
        let today = input.calendar.date(of: input.nowMs)

        func num(_ d: Double?) -> JSONValue { d.map { .number(($0 * 10).rounded() / 10) } ?? .null }
        func int(_ n: Int) -> JSONValue { .number(Double(n)) }
        var zoneList: [JSONValue] = []
        var total = 0, occupiedTotal = 0, arrivals = 0, stays = 0, staySeconds = 0.0, revenue = 0
        for z in zones {
            let f = figures[z.id] ?? .init()
            let n = occupied[z.id] ?? 0
            total += z.capacity
            occupiedTotal += n
            arrivals += f.arrivalsToday
            stays += f.staysToday
            staySeconds += (f.averageStaySeconds ?? 0) * Double(f.staysToday)
            revenue += f.revenueCentsToday
            let target = input.config?.dailyTarget(zone: z.id, date: today)
            var forecast: [String: JSONValue] = [:]
            for (h, p) in forecasts[z.id]?.byHorizon ?? [:] { forecast[String(h)] = num(p) }
            zoneList.append(.object([
                "id": .string(z.id), "facility": .string(z.facility), "occupied": int(n), "available": int(max(0, z.capacity - n)),
                "capacity": int(z.capacity), "arrivals_today": int(f.arrivalsToday),
                "average_stay_minutes": num(f.averageStaySeconds.map { $0 / 60 }),
                "efficiency_percent": num(target.map { Double(f.arrivalsToday) / Double($0) * 100 }),
                "arrivals_this_hour": int(f.arrivalsThisHour), "hourly_target": num(target.map { Double($0) / 24 }),
                "arrivals_same_hour_last_week": int(f.arrivalsSameHourLastWeek), "revenue_cents_today": int(f.revenueCentsToday),
                "forecast": .object(forecast),
                // The daemon's model computes it; the database does not keep it.
                "minutes_to_full": .null,
            ]))
        }
        let least = sensors.filter { $0.healthScore != nil }
            .sorted { ($0.healthScore!, $0.key) < ($1.healthScore!, $1.key) }.prefix(5).map { s -> JSONValue in
                .object(["sensor": .string(s.key.description), "score": num(s.healthScore),
                         "last_seen": s.lastSeenMs.flatMap(Timestamps.iso).map(JSONValue.string) ?? .null])
            }
        var bySeverity: [String: JSONValue] = [:]
        for severity in ["critical", "warning", "info"] {
            bySeverity[severity] = int(open.filter { $0.severity == severity && $0.acknowledgedAtMs == nil }.count)
        }
        let openList = open.prefix(10).map { a -> JSONValue in
            .object(["id": .number(Double(a.id)), "type": .string(a.type), "severity": .string(a.severity),
                     "subject": .string(a.subject), "acknowledged": .bool(a.acknowledgedAtMs != nil),
                     "created_at": .string(Timestamps.iso(ms: a.createdAtMs) ?? "")])
        }
        let samplerLast = sensors.map(\.updatedMs).max()
        // The overrides still in force: recorded, not ended, not past their time (the
        // daemon that would have ended them is down). None before the table existed.
        let overrides = ((try? OverrideRepository(connection: c, appliance: appliance).active()) ?? [])
            .filter { o in o.expiresAtMs.map { $0 > input.nowMs } ?? true }
            .map { o -> JSONValue in
                .object([
                    "id": .number(Double(o.id)), "sensor": .string(SensorKey(gatewayId: o.gatewayId, sensor: o.sensorId).description),
                    "zone": o.zoneId.map(JSONValue.string) ?? .null, "state": .string(o.state),
                    "reason": o.reason.map(JSONValue.string) ?? .null,
                    "set_by": .string(o.setByUser.map { "\($0) (uid \(o.setByUid))" } ?? "uid \(o.setByUid)"),
                    "set_at": .string(Timestamps.iso(ms: o.setAtMs) ?? ""),
                    "expires_at": o.expiresAtMs.flatMap(Timestamps.iso).map(JSONValue.string) ?? .null,
                ])
            }
        let sections: [String: JSONValue] = [
            "overrides": .array(overrides),
            "zones": .array(zoneList),
            "garage": .object([
                "total": int(total), "occupied": int(occupiedTotal), "available": int(max(0, total - occupiedTotal)),
                "arrivals_today": int(arrivals), "average_stay_minutes": stays > 0 ? num(staySeconds / Double(stays) / 60) : .null,
                "revenue_cents_today": int(revenue),
            ]),
            "least_healthy": .array(least),
            "alerts": .object(["open_by_severity": .object(bySeverity), "open": .array(openList)]),
            "sampler": .object([
                "last_run_at": samplerLast.flatMap(Timestamps.iso).map(JSONValue.string) ?? .null, "duration_ms": .null,
                "runs": .null, "sensors": int(sensors.count), "unmapped_sensors": int(unmapped.values.reduce(0, +)),
                "database": .string("ok"),
            ]),
        ]

        let lastReading = readings.map(\.atMs).max()
        let asOf = [lastReading, samplerLast].compactMap { $0 }.max()
        func age(_ ms: Int64?) -> Double? { ms.map { Double(max(0, input.nowMs - $0)) / 1000 } }
        var perGateway: [String: Int] = [:]
        for s in sensors { perGateway[s.key.gatewayId, default: 0] += 1 }
        let gatewayIds = Set(perGateway.keys).union(readings.map(\.gatewayId)).sorted()
        let gateways = gatewayIds.map { g -> StatusSnapshot.Stored.Gateway in
            let at = readings.first { $0.gatewayId == g }?.atMs
            return .init(gateway_id: g, last_reading_at: at.flatMap(Timestamps.iso), age_seconds: age(at), sensors: perGateway[g] ?? 0)
        }
        var snapshot = StoredStatusSnapshot()
        if (try? FileSystem.status(input.state.path)) != nil {
            snapshot.last_run_stopped_cleanly = RunMarker(state: input.state).previous() == nil
        }
        snapshot.sampler = sections
        snapshot.stored = StatusSnapshot.Stored(
            reason: input.reason, database: c.dsn.description, as_of: asOf.flatMap(Timestamps.iso), age_seconds: age(asOf),
            last_reading_at: lastReading.flatMap(Timestamps.iso), gateways: gateways)
        return snapshot
    }
}
