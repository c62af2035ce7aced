/// A sensor's health, 0–100, with the component scores (each 0–100) it is made of, so
/// the technician sees why a sensor scores low.
public struct HealthScore: Codable, Sendable, Equatable {
    public var total: Double
    public var recency: Double
    public var voltage: Double
    public var power: Double
    public var alerts: Double
}

extension HealthRules {
    /// Scores one sensor at `nowMs`.
    ///
    /// - `lastSeenMs`: nil (never heard from) scores 0 for recency; a time in the future
    ///   (clock skew between threads) counts as just seen.
    /// - `voltageMean` / `powerMean`: the 1-hour means; nil scores `unmeteredScore`.
    /// - `openUnacknowledgedAlerts`: alerts for this sensor not yet resolved or acknowledged.
    public func score(
        lastSeenMs: Int64?, voltageMean: Double?, powerMean: Double?,
        openUnacknowledgedAlerts: Int, nowMs: Int64
    ) -> HealthScore {
        let r = recencyScore(lastSeenMs: lastSeenMs, nowMs: nowMs)
        let v = voltageMean.map(voltageScore) ?? unmeteredScore
        let p = powerMean.map(powerScore) ?? unmeteredScore
        let a = alertsScore(openUnacknowledgedAlerts)
        let weights = recencyWeight + voltageWeight + powerWeight + alertsWeight
        let total = weights > 0
            ? (r * recencyWeight + v * voltageWeight + p * powerWeight + a * alertsWeight) / weights
            : 0
        return HealthScore(total: min(max(total, 0), 100), recency: r, voltage: v, power: p, alerts: a)
    }

    /// Scores a sensor from the stats the sampler keeps for it.
    public func score(_ stats: SensorStats, openUnacknowledgedAlerts: Int, nowMs: Int64) -> HealthScore {
        score(lastSeenMs: stats.lastSeenMs, voltageMean: stats.voltageMean(nowMs: nowMs),
              powerMean: stats.powerMean(nowMs: nowMs),
              openUnacknowledgedAlerts: openUnacknowledgedAlerts, nowMs: nowMs)
    }

    func recencyScore(lastSeenMs: Int64?, nowMs: Int64) -> Double {
        guard let lastSeenMs else { return 0 }
        let age = max(0, Double(nowMs - lastSeenMs) / 1_000)
        if age <= freshSeconds { return 100 }
        if age >= staleSeconds { return 0 }
        return 100 * (staleSeconds - age) / (staleSeconds - freshSeconds)
    }

    func voltageScore(_ mean: Double) -> Double {
        if voltageGood.contains(mean) { return voltageGoodScore }
        if voltageFair.contains(mean) { return voltageFairScore }
        return voltagePoorScore
    }

    func powerScore(_ mean: Double) -> Double {
        if mean <= powerGoodMaxWatts { return powerGoodScore }
        if mean <= powerFairMaxWatts { return powerFairScore }
        return powerPoorScore
    }

    func alertsScore(_ open: Int) -> Double {
        if open <= 0 { return alertsNoneScore }
        if open <= alertsFairMax { return alertsFairScore }
        return alertsManyScore
    }
}
