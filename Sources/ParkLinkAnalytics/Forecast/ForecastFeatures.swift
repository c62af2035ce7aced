/// The regressors of the learned correction, all in fractions of capacity:
///
/// 0. seasonal change P(t+h) − P(t): what a usual day does next;
/// 1–2. the last ~30-min change, and the profile's change over the same interval;
/// 3. today's deviation from the profile, y − P(t);
/// 4–5. the last ~60-min change, and the profile's.
///
/// The target is y(t+h) − y(t). The prior weights (1, 0, …) make an untrained model
/// "persistence plus the seasonal change"; learning then finds how much of today's
/// momentum and deviation carries on (a busy day's morning ramp is steeper than the
/// profile's, and stays so).
enum ForecastFeatures {
    static let count = 6
    static let prior: [Double] = [1, 0, 0, 0, 0, 0]

    /// Nil when the profile cannot say what is usual at the origin or at the target.
    static func make(origin: Origin, offset: Double, profile: (Double) -> Double?) -> [Double]? {
        guard let now = profile(origin.time), let then = profile(origin.time + offset) else { return nil }
        var x = [Double](repeating: 0, count: count)
        x[0] = then - now
        x[3] = origin.fraction - now
        if let lag = origin.lag1, let usual = profile(lag.time) {
            x[1] = origin.fraction - lag.fraction
            x[2] = now - usual
        }
        if let lag = origin.lag2, let usual = profile(lag.time) {
            x[4] = origin.fraction - lag.fraction
            x[5] = now - usual
        }
        return x
    }
}
