/// What the sampler copies out per sensor for the alert rules.
public struct SensorSnapshot: Sendable, Equatable {
    public var gateway: String
    public var sensor: UInt16
    /// Host UTC ms of the last reading; nil if the sensor is configured but never heard.
    public var lastSeenMs: Int64?
    public var lastVoltage: Double?
    public var lastPowerWatts: Double?
    public var healthScore: Double?

    public init(gateway: String, sensor: UInt16, lastSeenMs: Int64?, lastVoltage: Double? = nil,
                lastPowerWatts: Double? = nil, healthScore: Double? = nil) {
        self.gateway = gateway
        self.sensor = sensor
        self.lastSeenMs = lastSeenMs
        self.lastVoltage = lastVoltage
        self.lastPowerWatts = lastPowerWatts
        self.healthScore = healthScore
    }

    public init(gateway: String, sensor: UInt16, stats: SensorStats, healthScore: Double?) {
        self.init(gateway: gateway, sensor: sensor, lastSeenMs: stats.lastSeenMs,
                  lastVoltage: stats.lastVoltage, lastPowerWatts: stats.lastPowerWatts,
                  healthScore: healthScore)
    }

    public var subject: AlertSubject { .sensor(gateway: gateway, sensor: sensor) }
}

/// The pipeline counters the appliance-level rules read, copied at one evaluation.
public struct PipelineCounters: Sendable, Equatable {
    /// The serial link is open and frames are arriving.
    public var linkUp: Bool
    /// Frames lost on the link (sequence gaps) since the daemon started; monotonic.
    public var framesLost: UInt64
    public var ringCount: Int
    public var ringCapacity: Int
    /// Readings waiting in the on-disk spool.
    public var spoolPending: Int
    public var databaseUp: Bool
    /// The database refuses the writer's batches with a permanent error (a revoked
    /// privilege, a data error): what it said, with the statement. Nil while it accepts them.
    public var writeRejected: String?
    /// Readings the spool could not keep (cap or disk full) since the daemon started; monotonic.
    public var spoolDropped: UInt64 = 0
    /// Readings dropped because their session was refused at the session limit since the
    /// daemon started; monotonic.
    public var sessionLimitDropped: UInt64 = 0

    public init(linkUp: Bool, framesLost: UInt64, ringCount: Int, ringCapacity: Int,
                spoolPending: Int, databaseUp: Bool, writeRejected: String? = nil, spoolDropped: UInt64 = 0,
                sessionLimitDropped: UInt64 = 0) {
        self.writeRejected = writeRejected
        self.spoolDropped = spoolDropped
        self.sessionLimitDropped = sessionLimitDropped
        self.linkUp = linkUp
        self.framesLost = framesLost
        self.ringCount = ringCount
        self.ringCapacity = ringCapacity
        self.spoolPending = spoolPending
        self.databaseUp = databaseUp
    }
}
