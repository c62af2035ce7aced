import ParkLinkProtocol

/// What the sampler keeps per sensor between snapshots: when it was last heard from,
/// its last electrical values, and hour-long means of voltage and power kept
/// incrementally (`RollingMean`), so scoring never scans stored readings.
public struct SensorStats: Codable, Sendable, Equatable {
    public private(set) var lastSeenMs: Int64?
    public private(set) var lastVoltage: Double?
    public private(set) var lastPowerWatts: Double?
    private var voltage: RollingMean
    private var power: RollingMean

    public init(bucketMs: Int64 = 60_000, bucketCount: Int = 60) {
        voltage = RollingMean(bucketMs: bucketMs, bucketCount: bucketCount)
        power = RollingMean(bucketMs: bucketMs, bucketCount: bucketCount)
    }

    /// Folds in a decoded reading received at `atMs` (host UTC, ms). Voltage is
    /// `voltageDv / 10` V; power is `Reading.powerWatts`, present only when the sensor
    /// meters voltage, current and power factor.
    public mutating func add(reading: Reading, atMs: Int64) {
        add(voltage: reading.voltageDv.map { Double($0) / 10 }, powerWatts: reading.powerWatts, atMs: atMs)
    }

    /// Nil values mean "not metered in this reading" and leave that series alone.
    public mutating func add(voltage v: Double?, powerWatts p: Double?, atMs: Int64) {
        lastSeenMs = max(lastSeenMs ?? .min, atMs)
        if let v, v.isFinite {
            lastVoltage = v
            voltage.add(value: v, atMs: atMs)
        }
        if let p, p.isFinite {
            lastPowerWatts = p
            power.add(value: p, atMs: atMs)
        }
    }

    public func voltageMean(nowMs: Int64) -> Double? { voltage.mean(nowMs: nowMs) }
    public func powerMean(nowMs: Int64) -> Double? { power.mean(nowMs: nowMs) }
}
