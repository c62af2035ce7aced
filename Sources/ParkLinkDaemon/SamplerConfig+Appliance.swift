import Foundation
import ParkLinkSampler

extension SamplerConfig {
    /// The sampler's settings from the appliance's configuration and state directory.
    public init(appliance c: ApplianceConfig, state: StateDirectory) {
        self.init()
        intervalMs = Int(c.samplerIntervalSeconds * 1000)
        healthHistoryIntervalMs = Int(c.healthHistoryIntervalSeconds * 1000)
        healthRules = c.healthRules
        alertRules = c.alertRules
        zones = c.zones
        timeZone = TimeZone(identifier: c.timeZone) ?? TimeZone(identifier: "UTC")!
        hourlyRateCents = c.hourlyRateCents
        storage = c.storage
        forecasterStateFile = state.path + "/forecaster.json"
        applianceId = String((ProcessInfo.processInfo.hostName + ":" + state.path).prefix(191))
    }
}
