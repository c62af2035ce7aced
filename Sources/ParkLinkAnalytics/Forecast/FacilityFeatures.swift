/// The regressors of `FacilityForecaster`'s learned correction, in fractions of capacity.
/// The target is y(t+h) − y(t).
///
/// Eight base regressors:
///
/// 0. seasonal change P(t+h) − P(t), P the profile as of the start of today;
/// 1–2. the last ~30-min change, and the profile's change over the same interval;
/// 3. today's deviation from the profile, y − P(t);
/// 4–5. the last ~60-min change, and the profile's;
/// 6. what the zone did over the same hours a week ago, y(t+h−7d) − y(t−7d);
/// 7. the same on the previous day of the same type (weekday or weekend day).
///
/// 6 and 7 fall back to 0's value when those readings are missing. Then copies that are
/// non-zero only on the first reading of the day (no momentum yet: 0, 3, 6, 7), and only
/// at weekends (all eight): weekends ramp differently, and a shared regression on 30
/// zones has the data to learn that. The prior (1, 0, …) is "persistence plus the
/// seasonal change".
///
/// What was tried on the validation part and left out because it did not help: a
/// facility-wide busyness signal (capacity-weighted deviation and momentum of all zones
/// against their profiles at the same instant, and the facility's latest forecast
/// surprise), a multiplicative (ratio) term, time-of-day coefficient sets, an intercept.
enum FacilityFeatures {
    static let base = 8
    static let firstReading = [0, 3, 6, 7]
    static let count = base + firstReading.count + base
    static var prior: [Double] {
        var p = [Double](repeating: 0, count: count)
        p[0] = 1
        return p
    }

    struct Inputs {
        var seasonalChange: Double
        var momentum1: Double = 0, seasonalMomentum1: Double = 0
        var deviation: Double
        var momentum2: Double = 0, seasonalMomentum2: Double = 0
        var weekAgoChange: Double?
        var dayTypeAgoChange: Double?
        var isFirstReading: Bool
        var isWeekend: Bool
    }

    static func vector(_ i: Inputs) -> [Double] {
        var x = [Double](repeating: 0, count: count)
        x[0] = i.seasonalChange
        x[1] = i.momentum1
        x[2] = i.seasonalMomentum1
        x[3] = i.deviation
        x[4] = i.momentum2
        x[5] = i.seasonalMomentum2
        x[6] = i.weekAgoChange ?? i.seasonalChange
        x[7] = i.dayTypeAgoChange ?? i.seasonalChange
        if i.isFirstReading {
            for (k, j) in firstReading.enumerated() { x[base + k] = x[j] }
        }
        if i.isWeekend {
            for j in 0..<base { x[base + firstReading.count + j] = x[j] }
        }
        return x
    }
}
