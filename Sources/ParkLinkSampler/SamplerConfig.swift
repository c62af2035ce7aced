import Foundation
import ParkLinkAnalytics

/// How the sampler runs: its period, the rules, the zone map, the figures' calendar.
public struct SamplerConfig: Sendable {
    public var intervalMs = 5_000
    public var healthHistoryIntervalMs = 60_000
    /// Zone occupancy and forecasts are stored this often (the model learns every run).
    public var forecastRecordIntervalMs = 60_000
    public var forecastHorizonsMinutes: [Int] = [15, 30, 60]
    public var healthRules = HealthRules()
    public var alertRules = AlertRules()
    public var zones = try! ZoneMap()
    public var timeZone = TimeZone(identifier: "UTC")!
    public var hourlyRateCents = 0
    /// Names this appliance's alerts in a database several appliances may share.
    public var applianceId = "parklink"
    /// Where the forecasters' learned state is kept across restarts (nil: not kept).
    public var forecasterStateFile: String?
    /// Partitions, retention and rollups (`[storage]`).
    public var storage = StorageUpkeepConfig()
    /// Runs at the start of every cycle, on the sampler thread: lets a test make the
    /// sampler slow, to prove the reader does not notice.
    public var cycleHook: (@Sendable () -> Void)?

    public init() {}
}
