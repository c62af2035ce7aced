import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkStore

/// The sampler's side of the database: its own connection (never the writer's, so a slow
/// sampler query holds up only the sampler) and the store's repositories, with the
/// mapping between the analytics types and the rows the store keeps.
final class SamplerDatabase {
    let appliance: String
    let connection: LazyConnection

    init(dsn: DSN, appliance: String) {
        self.appliance = appliance
        self.connection = LazyConnection(dsn: dsn, profile: .sampler)
    }

    var isConnected: Bool { connection.isConnected }
    func drop() { connection.drop() }

    private func alerts() throws -> AlertRepository {
        AlertRepository(connection: try connection.get(), appliance: appliance)
    }

    /// Open alerts and the next id, to resume the alert book after a restart.
    func loadAlertBook() throws -> AlertBook {
        let (next, open) = try alerts().loadOpen()
        return AlertBook(nextId: next, active: open.compactMap(Alert.init(record:)))
    }

    func write(_ transitions: [AlertTransition]) throws {
        guard !transitions.isEmpty else { return }
        try alerts().write(transitions.map(AlertChange.init))
    }

    func upsertSensors(_ rows: [SensorRecord], nowMs: Int64) throws {
        try SensorRepository(connection: try connection.get()).upsert(rows, nowMs: nowMs)
    }

    func appendHealthHistory(_ rows: [SensorRecord], atMs: Int64) throws {
        try SensorRepository(connection: try connection.get()).appendHistory(rows, atMs: atMs)
    }

    func recordZones(_ samples: [ZoneRepository.ZoneSample], atMs: Int64, record: Bool, dueWindowSeconds: Int) throws {
        guard !samples.isEmpty else { return }
        try ZoneRepository(connection: try connection.get())
            .record(samples, atMs: atMs, record: record, dueWindowSeconds: dueWindowSeconds)
    }

    func zoneFigures(dayStartMs: Int64, hourStartMs: Int64, hourlyRateCents: Int,
                     zoneRates: [String: Int]) throws -> [String: ZoneRepository.ZoneFigures] {
        try ZoneRepository(connection: try connection.get())
            .figures(dayStartMs: dayStartMs, hourStartMs: hourStartMs, hourlyRateCents: hourlyRateCents, zoneRates: zoneRates)
    }

    /// The rates of this configuration, for the `stays` view (`tariffs`).
    func recordTariffs(defaultCents: Int, zones: [Zone], atMs: Int64) throws {
        var rates = ["": defaultCents]
        for z in zones { rates[z.id] = z.hourlyRateCents ?? defaultCents }
        try ZoneRepository(connection: try connection.get()).recordTariffs(rates, atMs: atMs)
    }
}

extension SensorRecord {
    init(key: SensorKey, zoneId: String?, bay: String?, occupied: Bool, lastSeenMs: Int64?, health: HealthScore,
         voltageMean: Double?, powerMean: Double?) {
        self.init(key: key, zoneId: zoneId, bay: bay, occupied: occupied, lastSeenMs: lastSeenMs, score: health.total,
                  recency: health.recency, voltage: health.voltage, power: health.power, alerts: health.alerts,
                  voltageMean: voltageMean, powerMean: powerMean)
    }
}

extension AlertChange {
    init(_ t: AlertTransition) {
        switch t {
        case .opened(let a): self = .opened(AlertRecord(a))
        case .resolved(let a): self = .resolved(id: a.id, atMs: a.resolvedAtMs ?? 0)
        case .acknowledged(let a): self = .acknowledged(id: a.id, atMs: a.acknowledgedAtMs ?? 0)
        }
    }
}

extension AlertRecord {
    public init(_ a: Alert) {
        var gateway: String?, sensor: UInt16?
        if case .sensor(let g, let s) = a.subject {
            gateway = g
            sensor = s
        }
        self.init(id: a.id, type: a.type.rawValue, severity: a.severity.rawValue, subject: a.subject.description,
                  gatewayId: gateway, sensorId: sensor, message: a.message, createdAtMs: a.openedAtMs,
                  acknowledgedAtMs: a.acknowledgedAtMs, resolvedAtMs: a.resolvedAtMs)
    }
}

extension Alert {
    /// Nil for a row this version cannot read (an unknown type or component).
    init?(record r: AlertRecord) {
        guard let type = AlertType(rawValue: r.type), let severity = AlertSeverity(rawValue: r.severity) else { return nil }
        let subject: AlertSubject
        if let g = r.gatewayId, let s = r.sensorId {
            subject = .sensor(gateway: g, sensor: s)
        } else if let component = AlertSubject.Component(rawValue: r.subject) {
            subject = .component(component)
        } else if r.subject.hasPrefix(AlertSubject.zonePrefix) {
            subject = .zone(String(r.subject.dropFirst(AlertSubject.zonePrefix.count)))
        } else {
            return nil
        }
        self.init(id: r.id, subject: subject, type: type, severity: severity, message: r.message,
                  openedAtMs: r.createdAtMs, acknowledgedAtMs: r.acknowledgedAtMs, resolvedAtMs: r.resolvedAtMs)
    }
}
