import Foundation

/// A deterministic car park with a daily shape, a weekly rhythm (busy Saturday, quiet
/// Sunday), a random busyness per day and a little noise: the structure the forecaster
/// claims to learn, with nothing it could not.
struct SyntheticCarPark {
    let capacity = 1_000.0
    /// Monday 2024-01-01 00:00 UTC.
    static let start = 1_704_067_200.0
    private var dayFactors: [Double] = []
    private var rng: UInt64

    init(seed: UInt64 = 42, days: Int = 60) {
        rng = seed
        dayFactors = (0..<days).map { _ in 0.85 + 0.3 * next() }
    }

    /// Uniform in [0, 1): a 64-bit LCG, good enough for test noise.
    private mutating func next() -> Double {
        rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(rng >> 11) / Double(1 << 53)
    }

    /// Amplitude by weekday, Monday first.
    static let weekly = [0.75, 0.75, 0.75, 0.75, 0.75, 0.9, 0.35]

    /// The noise-free occupancy at `t`.
    func expected(at t: Double) -> Double {
        let day = Int((t - Self.start) / 86_400)
        let hour = (t - Self.start).truncatingRemainder(dividingBy: 86_400) / 3_600
        let bump = exp(-pow((hour - 13) / 3.5, 2))
        let factor = dayFactors[min(day, dayFactors.count - 1)]
        return capacity * (0.05 + Self.weekly[day % 7] * factor * bump)
    }

    /// Samples every `step` seconds ± `jitter`, with ±1% of capacity noise.
    mutating func samples(days: Int, step: Double = 1_800, jitter: Double = 240) -> [(t: Double, occupied: Double)] {
        var out: [(Double, Double)] = []
        var slot = Self.start
        while slot < Self.start + Double(days) * 86_400 {
            let t = slot + (next() * 2 - 1) * jitter
            let y = expected(at: t) + (next() * 2 - 1) * 0.01 * capacity
            out.append((t, min(max(y, 0), capacity)))
            slot += step
        }
        return out
    }
}
