/// How urgent an alert is; ordered info < warning < critical.
public enum AlertSeverity: String, Codable, Sendable, CaseIterable, Comparable {
    case info, warning, critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (a: AlertSeverity, b: AlertSeverity) -> Bool { a.rank < b.rank }
}

/// The conditions the appliance watches. Raw values are what the database stores.
public enum AlertType: String, Codable, Sendable, CaseIterable {
    // Per sensor.
    case deviceOffline = "DEVICE_OFFLINE"
    case highPower = "HIGH_POWER"
    case invalidData = "INVALID_DATA"
    case lowHealth = "LOW_HEALTH"
    /// The bay changed state more than `AlertRules.flappingChangesPerMinute` times in the
    /// last minute: a sensor seeing something that is not a car (a swinging barrier,
    /// rain, a fault), whose arrivals and departures are not to be trusted.
    case sensorFlapping = "SENSOR_FLAPPING"
    // The appliance's own.
    case linkDown = "LINK_DOWN"
    case linkGap = "LINK_GAP"
    case ringHigh = "RING_HIGH"
    case spoolInUse = "SPOOL_IN_USE"
    /// The spool is at its cap: readings are being lost (and counted).
    case spoolFull = "SPOOL_FULL"
    case databaseDown = "DB_DOWN"
    /// The database is up but refuses the writer's batches (permanent error).
    case databaseRejected = "DB_REJECTED"
    /// The session table is full: readings of new gateway sessions are dropped (counted).
    case sessionLimit = "SESSION_LIMIT"
    // Per zone.
    /// The forecast says the zone fills within `AlertRules.zoneFillingMinutes` (or it is
    /// full): a manager can open overflow or redirect drivers before it does.
    case zoneFilling = "ZONE_FILLING"
    /// Every space of the zone is taken (occupied ≥ capacity); resolved when one frees.
    case zoneFull = "ZONE_FULL"

    public var severity: AlertSeverity {
        switch self {
        case .deviceOffline, .linkDown, .databaseDown, .databaseRejected, .spoolFull: .critical
        case .highPower, .invalidData, .linkGap, .ringHigh, .sessionLimit, .sensorFlapping: .warning
        case .lowHealth, .spoolInUse, .zoneFilling, .zoneFull: .info
        }
    }
}

/// What an alert is about: one sensor, one zone, or one part of the appliance.
public enum AlertSubject: Hashable, Codable, Sendable, CustomStringConvertible {
    case sensor(gateway: String, sensor: UInt16)
    case component(Component)
    case zone(String)

    /// Prefix of a zone's text key: it keeps a zone named like a component ("link") apart.
    public static let zonePrefix = "zone:"

    public enum Component: String, Codable, Sendable, CaseIterable {
        case link, ring, store, spool
    }

    public static let link = AlertSubject.component(.link)
    public static let ring = AlertSubject.component(.ring)
    public static let store = AlertSubject.component(.store)
    public static let spool = AlertSubject.component(.spool)

    /// A stable text key for storage: `gateway/sensor` for a sensor, `zone:ID` for a zone,
    /// the component name otherwise.
    public var description: String {
        switch self {
        case let .sensor(gateway, sensor): "\(gateway)/\(sensor)"
        case let .component(c): c.rawValue
        case let .zone(id): Self.zonePrefix + id
        }
    }
}

/// One condition found active by `AlertRules` at one evaluation.
public struct AlertCondition: Hashable, Codable, Sendable {
    public var subject: AlertSubject
    public var type: AlertType
    public var severity: AlertSeverity
    /// A human sentence with the value that tripped the rule.
    public var message: String

    public init(subject: AlertSubject, type: AlertType, severity: AlertSeverity? = nil, message: String) {
        self.subject = subject
        self.type = type
        self.severity = severity ?? type.severity
        self.message = message
    }

    public var key: AlertKey { AlertKey(subject: subject, type: type) }
}

/// The identity the "at most one open alert" rule is about.
public struct AlertKey: Hashable, Codable, Sendable {
    public var subject: AlertSubject
    public var type: AlertType

    public init(subject: AlertSubject, type: AlertType) {
        self.subject = subject
        self.type = type
    }
}
