/// The 70/15/15 chronological split of Alfarouk/ParkPulse, reproduced so that our
/// figures sit beside theirs (persistence MAE 49.37 cars at 30 min on its test part).
///
/// Take the origins (park, reading) that have a target at the reference horizon (30 min
/// ±10); take their distinct timestamps, sorted, n of them. Then
/// `trainEnd = ts[max(1, ⌊0.70·n⌋ − 1)]`, `validationEnd = ts[max(i+1, ⌊0.85·n⌋ − 1)]`.
/// Train: target ≤ trainEnd. Validation: origin > trainEnd and target ≤ validationEnd.
/// Test: origin > validationEnd.
///
/// The same boundaries serve every horizon, so 15, 30 and 60 minutes are scored over the
/// same days. On the Birmingham file: trainEnd 2016-11-27 09:02:19, validationEnd
/// 2016-12-08 12:25:24, 4,873 test forecasts at 30 min.
public struct ChronologicalSplit: Sendable, Equatable, Codable {
    public var trainEnd: Int64
    public var validationEnd: Int64

    public enum Part: Sendable { case train, validation, test }

    public init(trainEnd: Int64, validationEnd: Int64) {
        self.trainEnd = trainEnd
        self.validationEnd = validationEnd
    }

    /// Nil with fewer than 10 distinct origin timestamps (ParkPulse's own floor).
    public static func parkPulse(
        series: [ParkSeries], referenceHorizonMinutes: Int, toleranceMinutes: Int,
        trainFraction: Double = 0.70, validationFraction: Double = 0.15
    ) -> ChronologicalSplit? {
        let horizon = Int64(referenceHorizonMinutes) * 60
        let tolerance = Int64(toleranceMinutes) * 60
        var stamps = Set<Int64>()
        for s in series {
            for i in s.times.indices
            where TargetMatching.target(in: s.times, origin: i, horizon: horizon, tolerance: tolerance) != nil {
                stamps.insert(s.times[i])
            }
        }
        guard stamps.count >= 10 else { return nil }
        let sorted = stamps.sorted()
        let n = Double(sorted.count)
        let trainIndex = max(1, Int(n * trainFraction) - 1)
        let validIndex = max(trainIndex + 1, Int(n * (trainFraction + validationFraction)) - 1)
        return ChronologicalSplit(
            trainEnd: sorted[trainIndex],
            validationEnd: sorted[min(validIndex, sorted.count - 1)]
        )
    }

    /// Where a forecast from `origin` for a reading at `target` belongs; nil for one that
    /// straddles a boundary (ParkPulse scores those nowhere, and so do we).
    public func part(origin: Int64, target: Int64) -> Part? {
        if target <= trainEnd { return .train }
        if origin > trainEnd && target <= validationEnd { return .validation }
        if origin > validationEnd { return .test }
        return nil
    }
}
