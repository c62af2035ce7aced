import Foundation

/// A periodic mean occupancy (as a fraction of capacity) in fixed bins, read with linear
/// interpolation so that samples taken at 08:26 or 08:34 land where they belong.
///
/// Each update touches at most two bins, so it costs O(1) whatever the feed rate.
struct SeasonalProfile: Codable, Sendable, Equatable {
    let periodSeconds: Double
    let binSeconds: Double
    private(set) var values: [Double]
    /// Visits per bin (a visit = one bin width of feed), for the running-mean start and
    /// for knowing when a bin can be trusted.
    private(set) var visits: [Double]

    init(periodSeconds: Double, binSeconds: Double) {
        precondition(binSeconds > 0 && periodSeconds >= binSeconds)
        self.periodSeconds = periodSeconds
        self.binSeconds = binSeconds
        let count = Int((periodSeconds / binSeconds).rounded())
        values = Array(repeating: 0, count: count)
        visits = Array(repeating: 0, count: count)
    }

    private func position(_ t: Double) -> (lower: Int, upper: Int, fraction: Double) {
        var phase = t.truncatingRemainder(dividingBy: periodSeconds)
        if phase < 0 { phase += periodSeconds }
        let x = phase / binSeconds
        let lower = Int(x.rounded(.down)) % values.count
        return (lower, (lower + 1) % values.count, x - x.rounded(.down))
    }

    /// `mass` is the share of a bin visit this sample stands for (gap / bin width, at most
    /// 1), so a feed every 5 s and one every 30 min teach a bin equally per day.
    mutating func update(at t: Double, value: Double, mass: Double, alpha: Double) {
        let p = position(t)
        updateBin(p.lower, value: value, mass: (1 - p.fraction) * mass, alpha: alpha)
        updateBin(p.upper, value: value, mass: p.fraction * mass, alpha: alpha)
    }

    private mutating func updateBin(_ bin: Int, value: Double, mass m: Double, alpha: Double) {
        guard m > 0 else { return }
        visits[bin] += m
        let rate = max(1 - pow(1 - alpha, m), m / visits[bin])
        values[bin] += min(rate, 1) * (value - values[bin])
    }

    /// Nil when neither neighbouring bin has `minimumVisits`: an untrained profile must not
    /// pass for a seasonal pattern of zeros.
    func value(at t: Double, minimumVisits: Double) -> Double? {
        let p = position(t)
        let wl = visits[p.lower] >= minimumVisits ? 1 - p.fraction : 0
        let wu = visits[p.upper] >= minimumVisits ? p.fraction : 0
        guard wl + wu > 1e-9 else { return nil }
        return (values[p.lower] * wl + values[p.upper] * wu) / (wl + wu)
    }
}
