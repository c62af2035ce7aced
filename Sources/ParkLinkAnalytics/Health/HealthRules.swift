/// The thresholds and weights of the device health score (DESIGN.md, "Rules the seeds
/// give"), all configurable; the defaults are the design's.
public struct HealthRules: Codable, Sendable, Equatable {
    public var recencyWeight = 40.0
    public var voltageWeight = 20.0
    public var powerWeight = 20.0
    public var alertsWeight = 20.0

    /// Full recency marks up to this age, falling linearly to 0 at `staleSeconds`.
    public var freshSeconds = 120.0
    public var staleSeconds = 3_600.0

    /// Mean voltage (1 h) inside `voltageGood` scores `voltageGoodScore`; otherwise inside
    /// `voltageFair` scores `voltageFairScore`; otherwise `voltagePoorScore`.
    public var voltageGood: ClosedRange<Double> = 200...250
    public var voltageFair: ClosedRange<Double> = 150...300
    public var voltageGoodScore = 100.0
    public var voltageFairScore = 60.0
    public var voltagePoorScore = 20.0

    /// Mean power (1 h) at or under `powerGoodMaxWatts` scores `powerGoodScore`; at or under
    /// `powerFairMaxWatts`, `powerFairScore`; above, `powerPoorScore`.
    public var powerGoodMaxWatts = 1_500.0
    public var powerFairMaxWatts = 2_250.0
    public var powerGoodScore = 100.0
    public var powerFairScore = 50.0
    public var powerPoorScore = 10.0

    /// No open unacknowledged alert scores `alertsNoneScore`; up to `alertsFairMax`,
    /// `alertsFairScore`; more, `alertsManyScore`.
    public var alertsFairMax = 2
    public var alertsNoneScore = 100.0
    public var alertsFairScore = 60.0
    public var alertsManyScore = 20.0

    /// The score of the voltage or power component when there is no mean to judge: the
    /// sensor has no metering (most occupancy sensors), or sent no metered value in the
    /// last hour. Full marks by default: a sensor must not look sick for lacking a meter
    /// it never had, and a silent one already loses its recency marks (40 of 100) and
    /// raises DEVICE_OFFLINE.
    public var unmeteredScore = 100.0

    public init() {}
}
