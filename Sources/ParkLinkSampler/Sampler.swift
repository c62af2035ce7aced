import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem

/// The sampler thread: every few seconds it scores device health, raises and resolves
/// alerts, updates occupancy figures and forecasts, and writes them through its own
/// database connection.
///
/// It never slows the reader: it reads the reader's counters as atomics and the
/// per-sensor state through `SensorStateTable.snapshot()` (a lock the reader never
/// takes), does all its I/O with no lock held, and owns its connection. If the database
/// is slow or down, only the sampler waits (and raises DB_DOWN).
public final class Sampler: @unchecked Sendable {
    // @unchecked: mutable state is confined to the sampler thread, except `book`,
    // `published` and `pendingTransitions`, which are `Locked`, and `service`.
    public let config: SamplerConfig
    private let dsn: DSN
    private let sensors: SensorStateTable
    private let counters: @Sendable () -> PipelineCounters
    let logger: Logger
    let hooks: SamplerHooks
    private let service: ServiceThread
    private let book = Locked<AlertBook?>(nil)
    private let pendingTransitions = Locked<[AlertTransition]>([])
    private let published = Locked<[String: JSONValue]>([:])
    private let runs = Locked(0)

    // Sampler-thread state.
    /// One model for all zones: they share what they learn (see `FacilityForecaster`).
    private var forecaster: FacilityForecaster
    private var previousCounters: PipelineCounters?
    private var lastHistoryMs: Int64 = 0
    private var lastForecastRecordMs: Int64 = 0
    private var lastForecasterSaveMs: Int64 = 0
    private var lastWritten: [SensorKey: (lastSeenMs: Int64?, score: Double)] = [:]
    private var bookLoaded = false
    var overridesLoaded = false
    private let storageKeeper = StorageKeeper()
    /// Expired overrides whose end the database has not taken yet.
    let pendingOverrideEnds = Locked<[(id: UInt64, atMs: Int64)]>([])

    public init(config: SamplerConfig, dsn: DSN, sensors: SensorStateTable,
                counters: @escaping @Sendable () -> PipelineCounters, logger: Logger, hooks: SamplerHooks = SamplerHooks()) throws {
        self.config = config
        self.hooks = hooks
        self.dsn = dsn
        self.sensors = sensors
        self.counters = counters
        self.logger = logger
        self.service = try ServiceThread(name: "pl-sampler")
        var f = config.forecasterStateFile.flatMap { ForecasterStateFile.load($0, logger: logger) }
            ?? FacilityForecaster(capacities: Dictionary(uniqueKeysWithValues: config.zones.zones.map { ($0.id, Double($0.capacity)) }))
        // The zone map may have changed since the state was saved: capacities now; zones
        // gone from it once sensors report (`fitForecaster`), as a saved zone may be a
        // gateway zone, which only the sensors tell.
        for zone in config.zones.zones where f.capacity(ofZone: zone.id) != Double(zone.capacity) {
            f.setCapacity(Double(zone.capacity), forZone: zone.id)
        }
        forecaster = f
    }

    public func start() {
        service.start { [self] in run() }
    }

    /// Lets the cycle in progress finish, writes what changed since (if the database
    /// answers), saves the forecaster, and returns when the thread has finished. A second
    /// call does nothing more.
    public func stop() {
        service.stop()
    }

    /// Completed cycles.
    public var completedRuns: Int { runs.withLock { $0 } }

    /// The status sections the sampler owns: zones, garage, health, alerts, sampler.
    public func statusSections() -> [String: JSONValue] { published.withLock { $0 } }

    /// Open (active) alerts, newest first.
    public func activeAlerts() -> [Alert] {
        (book.withLock { $0?.activeAlerts } ?? []).sorted { $0.id > $1.id }
    }

    /// Acknowledges an alert; the database is updated on the next cycle (now, woken).
    public func acknowledge(id: UInt64) -> AlertBook.AcknowledgeResult {
        let now = Clock.wallMilliseconds()
        let result = book.withLock { b -> AlertBook.AcknowledgeResult in
            guard b != nil else { return .notActive }
            let r = b!.acknowledge(id: id, atMs: now)
            if case .acknowledged(let t) = r { pendingTransitions.withLock { $0.append(t) } }
            return r
        }
        if case .acknowledged = result { service.wake() }
        return result
    }

    /// Acknowledges every open, unacknowledged alert; returns how many.
    public func acknowledgeAll() -> Int {
        let ids = activeAlerts().filter { $0.acknowledgedAtMs == nil }.map(\.id)
        return ids.reduce(0) { n, id in
            if case .acknowledged = acknowledge(id: id) { return n + 1 }
            return n
        }
    }

    // MARK: - The thread

    private func run() {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        let store = SamplerDatabase(dsn: dsn, appliance: config.applianceId)
        while !service.isStopping {
            let started = Clock.monotonicNanoseconds()
            config.cycleHook?()
            cycle(store)
            let tookMs = Int((Clock.monotonicNanoseconds() - started) / 1_000_000)
            let wait = max(10, config.intervalMs - tookMs)
            _ = try? service.wait(timeoutMs: Int32(wait))
        }
        // Last words: what changed since the last cycle reaches the database if it can.
        if let t = Optional(pendingTransitions.withLock { $0 }), !t.isEmpty, (try? store.write(t)) != nil {
            pendingTransitions.withLock { $0.removeFirst(t.count) }
        }
        saveForecasters(force: true)
    }

    private func cycle(_ store: SamplerDatabase) {
        let started = Clock.monotonicNanoseconds()
        let nowMs = Clock.wallMilliseconds()
        var dbError: String?

        // The alert book resumes from the database the first time it can be reached.
        // Until then a provisional book (shown in status, not written) stands in; once the
        // database answers it is replaced, and the conditions still present reopen with
        // the database's numbering.
        if !bookLoaded {
            do {
                let loaded = try store.loadAlertBook()
                book.withLock { $0 = loaded }
                pendingTransitions.withLock { $0.removeAll() }
                bookLoaded = true
                try store.recordTariffs(defaultCents: config.hourlyRateCents, zones: config.zones.zones, atMs: nowMs)
            } catch {
                dbError = "\(error)"
                store.drop()
            }
        }

        if let e = maintainOverrides(store, nowMs: nowMs, databaseUsable: dbError == nil) {
            dbError = e
            store.drop()
        }
        let blocks = sensors.snapshot()
        var pipeline = counters()
        if dbError != nil || !store.isConnected { pipeline.databaseUp = pipeline.databaseUp && dbError == nil }

        // Health and sensor alerts.
        var rows: [SensorRecord] = []
        var conditions: [AlertCondition] = []
        var occupiedByZone: [String: Int] = [:]
        var unmappedByGateway: [String: Int] = [:]
        let currentBook = book.withLock { $0 } ?? AlertBook(nextId: UInt64(nowMs))
        // Overrides in force: the bay counts as the technician said (see `OverrideBook`).
        let inForce = Dictionary((hooks.overrides?.all ?? []).map { ($0.bay, $0.occupied) }) { $1 }
        var bays: [SensorKey: BayCondition] = [:]
        let offlineMs = Int64(config.alertRules.offlineAfterSeconds * 1000)
        for (gateway, block) in blocks {
            rows.reserveCapacity(rows.count + block.count)
            for slot in 0..<block.count {
                let sensor = block.sensorOfSlot[slot]
                let subject = AlertSubject.sensor(gateway: gateway, sensor: sensor)
                let lastSeen = block.lastSeen(slot: slot)
                let voltageMean = block.voltageMean(slot: slot, nowMs: nowMs)
                let powerMean = block.powerMean(slot: slot, nowMs: nowMs)
                let health = config.healthRules.score(
                    lastSeenMs: lastSeen, voltageMean: voltageMean, powerMean: powerMean,
                    openUnacknowledgedAlerts: currentBook.openUnacknowledgedCount(for: subject), nowMs: nowMs)
                conditions += config.alertRules.conditions(
                    for: SensorSnapshot(gateway: gateway, sensor: sensor, lastSeenMs: lastSeen,
                                        lastVoltage: block.voltage(slot: slot), lastPowerWatts: block.power(slot: slot),
                                        healthScore: health.total),
                    nowMs: nowMs)
                let zone = config.zones.zoneId(of: sensor)
                if zone == nil { unmappedByGateway[gateway, default: 0] += 1 }
                let key = SensorKey(gatewayId: gateway, sensor: sensor)
                let occupied = inForce.isEmpty ? block.occupied[slot] : inForce[key] ?? block.occupied[slot]
                if occupied { occupiedByZone[zone ?? gateway, default: 0] += 1 }
                if hooks.bays != nil {
                    bays[key] = BayCondition(occupied: block.occupied[slot], offline: lastSeen.map { nowMs - $0 > offlineMs } ?? true,
                                             unhealthy: health.total < config.alertRules.lowHealthBelow)
                }
                rows.append(SensorRecord(key: key, zoneId: zone,
                                         bay: config.zones.bay(of: sensor), occupied: occupied, lastSeenMs: lastSeen,
                                         health: health, voltageMean: voltageMean, powerMean: powerMean))
            }
        }
        for o in inForce.isEmpty ? [] : unreportedOverrides(reported: Set(rows.map(\.key))) where o.occupied {
            occupiedByZone[config.zones.zoneId(of: o.bay.sensor) ?? o.bay.gatewayId, default: 0] += 1
        }
        hooks.bays?(bays)
        conditions += liveConditions(occupiedByZone: occupiedByZone, nowMs: nowMs)
        // Zones: occupancy now, learning, forecasts, time to full (which the alert rules read).
        // Sensors in no configured zone count in a zone named after their gateway.
        let zones = config.zones.effectiveZones(unmapped: unmappedByGateway)
        if !blocks.isEmpty { fitForecaster(to: zones) }
        var zoneSamples: [ZoneRepository.ZoneSample] = []
        var minutesToFull: [String: Double] = [:]
        var occupancy: [String: Double] = [:]
        for zone in zones { occupancy[zone.id] = Double(occupiedByZone[zone.id] ?? 0) }
        forecaster.observe(occupancy, at: Double(nowMs) / 1000)
        for zone in zones {
            let predictions = config.forecastHorizonsMinutes.compactMap { h in
                forecaster.forecast(zone: zone.id, horizonMinutes: Double(h), from: Double(nowMs) / 1000)
                    .map { (horizonMinutes: h, predicted: $0) }
            }
            zoneSamples.append(.init(zoneId: zone.id, occupied: occupiedByZone[zone.id] ?? 0, capacity: zone.capacity,
                                     forecasts: predictions))
            let minutes = forecaster.minutesToFull(zone: zone.id, from: Double(nowMs) / 1000)
            minutesToFull[zone.id] = minutes
            conditions += config.alertRules.conditions(forZone: zone.id, minutesToFull: minutes)
        }
        conditions += config.alertRules.conditions(for: pipeline, previous: previousCounters)
        previousCounters = pipeline
        // Queued under the book's lock, so an acknowledgement from the status thread can
        // never be queued before the opening of the alert it acknowledges.
        let transitions = book.withLock { b -> [AlertTransition] in
            if b == nil { b = currentBook }
            let t = b!.update(conditions: conditions, nowMs: nowMs)
            if bookLoaded { pendingTransitions.withLock { $0 += t } }
            return t
        }
        for t in transitions { log(t) }
        if !transitions.isEmpty { hooks.alertTransitions?(transitions) }

        // Database: alerts first (they matter most), then sensors, history, zones.
        var figures: [String: ZoneRepository.ZoneFigures] = [:]
        if dbError == nil {
            do {
                let pending = pendingTransitions.withLock { $0 }
                try store.write(pending)
                pendingTransitions.withLock { $0.removeFirst(pending.count) }
                let changed = rows.filter { r in
                    guard let last = lastWritten[r.key] else { return true }
                    return last.lastSeenMs != r.lastSeenMs || abs(last.score - r.score) >= 0.5
                }
                try store.upsertSensors(changed, nowMs: nowMs)
                for r in changed { lastWritten[r.key] = (r.lastSeenMs, r.score) }
                if !rows.isEmpty, nowMs - lastHistoryMs >= Int64(config.healthHistoryIntervalMs) {
                    try store.appendHealthHistory(rows, atMs: nowMs)
                    lastHistoryMs = nowMs
                }
                let record = nowMs - lastForecastRecordMs >= Int64(config.forecastRecordIntervalMs)
                try store.recordZones(zoneSamples, atMs: nowMs, record: record, dueWindowSeconds: config.intervalMs / 1000)
                if record { lastForecastRecordMs = nowMs }
                let (day, hour) = calendarBoundaries(nowMs)
                figures = try store.zoneFigures(dayStartMs: day, hourStartMs: hour, hourlyRateCents: config.hourlyRateCents,
                                                zoneRates: config.zones.zones.reduce(into: [:]) { $0[$1.id] = $1.hourlyRateCents })
            } catch {
                dbError = "\(error)"
                store.drop()
            }
        }
        if let dbError {
            logger.warning("sampler: database write failed; will retry next cycle", metadata: ["sampler.error": "\(dbError)"])
        }
        if dbError == nil, storageKeeper.runIfDue(store, config: config.storage, nowMs: nowMs, logger: logger) != nil { store.drop() }
        saveForecasters(force: false)

        let tookMs = Double(Clock.monotonicNanoseconds() - started) / 1e6
        let n = runs.withLock { $0 += 1; return $0 }
        publish(rows: rows, zones: zoneSamples, zoneConfigs: zones, minutesToFull: minutesToFull, figures: figures, nowMs: nowMs,
                tookMs: tookMs, runs: n, dbError: dbError)
    }

    private func log(_ t: AlertTransition) {
        switch t {
        case .opened(let a):
            logger.notice("alert opened", metadata: ["alert.id": "\(a.id)", "alert.type": "\(a.type.rawValue)",
                                                     "alert.severity": "\(a.severity.rawValue)", "alert.subject": "\(a.subject)",
                                                     "alert.message": "\(a.message)"])
        case .resolved(let a):
            logger.info("alert resolved", metadata: ["alert.id": "\(a.id)", "alert.type": "\(a.type.rawValue)", "alert.subject": "\(a.subject)"])
        case .acknowledged(let a):
            logger.info("alert acknowledged", metadata: ["alert.id": "\(a.id)", "alert.type": "\(a.type.rawValue)"])
        }
    }

    /// Start of today and of this hour in the configured time zone, as UTC milliseconds.
    private func calendarBoundaries(_ nowMs: Int64) -> (day: Int64, hour: Int64) {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = config.timeZone
        let now = Date(timeIntervalSince1970: Double(nowMs) / 1000)
        let day = cal.startOfDay(for: now)
        let hour = cal.dateInterval(of: .hour, for: now)?.start ?? now
        return (Int64(day.timeIntervalSince1970 * 1000), Int64(hour.timeIntervalSince1970 * 1000))
    }

    // MARK: - Status

    private func publish(rows: [SensorRecord], zones: [ZoneRepository.ZoneSample], zoneConfigs: [Zone], minutesToFull: [String: Double],
                         figures: [String: ZoneRepository.ZoneFigures], nowMs: Int64, tookMs: Double, runs: Int, dbError: String?) {
        func num(_ d: Double?) -> JSONValue { d.map { .number(($0 * 10).rounded() / 10) } ?? .null }
        var zoneList: [JSONValue] = []
        var total = 0, occupiedTotal = 0, arrivals = 0, stays = 0, staySeconds = 0.0, revenue = 0
        for z in zones {
            let zone = zoneConfigs.first { $0.id == z.zoneId }
            let f = figures[z.zoneId] ?? .init()
            total += z.capacity
            occupiedTotal += z.occupied
            arrivals += f.arrivalsToday
            stays += f.staysToday
            staySeconds += (f.averageStaySeconds ?? 0) * Double(f.staysToday)
            revenue += f.revenueCentsToday
            var forecast: [String: JSONValue] = [:]
            for p in z.forecasts { forecast[String(p.horizonMinutes)] = num(p.predicted) }
            let target = zone?.dailyTarget
            zoneList.append(.object([
                "id": .string(z.zoneId), "facility": .string(zone?.facility ?? ""),
                "occupied": .number(Double(z.occupied)), "available": .number(Double(max(0, z.capacity - z.occupied))),
                "capacity": .number(Double(z.capacity)), "arrivals_today": .number(Double(f.arrivalsToday)),
                "average_stay_minutes": num(f.averageStaySeconds.map { $0 / 60 }),
                "efficiency_percent": num(target.map { Double(f.arrivalsToday) / Double($0) * 100 }),
                "arrivals_this_hour": .number(Double(f.arrivalsThisHour)),
                "hourly_target": num(target.map { Double($0) / 24 }),
                "arrivals_same_hour_last_week": .number(Double(f.arrivalsSameHourLastWeek)),
                "revenue_cents_today": .number(Double(f.revenueCentsToday)),
                "forecast": .object(forecast),
                // Null while the forecast does not see the zone full within the hour.
                "minutes_to_full": num(minutesToFull[z.zoneId]),
            ]))
        }
        let unmapped = rows.filter { $0.zoneId == nil }.count
        let least = rows.sorted { ($0.score, $0.key) < ($1.score, $1.key) }.prefix(5).map { r -> JSONValue in
            .object(["sensor": .string(r.key.description), "score": num(r.score),
                     "last_seen": r.lastSeenMs.flatMap(Timestamps.iso).map(JSONValue.string) ?? .null])
        }
        let active = activeAlerts()
        var bySeverity: [String: JSONValue] = [:]
        for s in AlertSeverity.allCases {
            bySeverity[s.rawValue] = .number(Double(active.filter { $0.severity == s && $0.acknowledgedAtMs == nil }.count))
        }
        let open = active.prefix(10).map { a -> JSONValue in
            .object(["id": .number(Double(a.id)), "type": .string(a.type.rawValue), "severity": .string(a.severity.rawValue),
                     "subject": .string(a.subject.description), "acknowledged": .bool(a.acknowledgedAtMs != nil),
                     "created_at": .string(Timestamps.iso(ms: a.openedAtMs) ?? "")])
        }
        let sections: [String: JSONValue] = [
            "zones": .array(zoneList),
            "garage": .object([
                "total": .number(Double(total)), "occupied": .number(Double(occupiedTotal)),
                "available": .number(Double(max(0, total - occupiedTotal))), "arrivals_today": .number(Double(arrivals)),
                "average_stay_minutes": stays > 0 ? num(staySeconds / Double(stays) / 60) : .null,
                "revenue_cents_today": .number(Double(revenue)),
            ]),
            "least_healthy": .array(least),
            "overrides": overridesSection(),
            "alerts": .object(["open_by_severity": .object(bySeverity), "open": .array(open)]),
            "sampler": .object([
                "last_run_at": .string(Timestamps.iso(ms: nowMs) ?? ""), "duration_ms": num(tookMs),
                "runs": .number(Double(runs)), "sensors": .number(Double(rows.count)),
                "unmapped_sensors": .number(Double(unmapped)),
                "database": dbError.map { .string("error: \($0)") } ?? .string("ok"),
            ]),
        ]
        published.withLock { $0 = sections }
    }

    // MARK: - Forecaster persistence

    /// The forecaster follows the zones: gateway zones come and grow as sensors report,
    /// and a zone no longer configured is forgotten. Only once sensors have reported
    /// (after a restart the blocks start empty), so a saved gateway zone is not dropped.
    private func fitForecaster(to zones: [Zone]) {
        for zone in zones where forecaster.capacity(ofZone: zone.id) != Double(zone.capacity) {
            forecaster.setCapacity(Double(zone.capacity), forZone: zone.id)
        }
        for name in forecaster.zoneNames where !zones.contains(where: { $0.id == name }) { forecaster.removeZone(name) }
    }

    private func saveForecasters(force: Bool) {
        guard let path = config.forecasterStateFile, !forecaster.zoneNames.isEmpty else { return }
        let now = Clock.wallMilliseconds()
        guard force || now - lastForecasterSaveMs >= 300_000 else { return }
        lastForecasterSaveMs = now
        if !ForecasterStateFile.save(forecaster, to: path) {
            logger.warning("cannot save the forecaster state", metadata: ["sampler.file": "\(path)", "sampler.errno": "\(errno)"])
        }
    }
}
