import Foundation

/// Walk-forward replay of a car-park CSV through the same `OccupancyForecaster` the
/// appliance runs, scored against persistence and seasonal naive.
///
/// Per car park, every cleaned reading is fed in time order; right after reading i is
/// observed, each horizon's forecast from i is made and, if i is an origin of the part
/// being scored, compared with its target reading (see `TargetMatching`). Nothing at or
/// after the target is known to any method when it forecasts: the model has seen readings
/// up to i only, and learns online all the way through (train and validation parts are
/// its warm-up; it keeps learning in the test part, as it would live).
///
/// Baselines, on exactly the same (origin, target) pairs:
/// - persistence: the origin's occupancy;
/// - seasonal naive: the reading nearest to the target's time minus 7 days (±tolerance);
///   if none, minus 1 day; if neither, persistence (counted as `seasonalFallbacks`).
///
/// Hyper-parameters (`ForecasterConfig` defaults) were chosen once on the validation
/// part; the test part was not used to choose anything.
public enum ForecastEvaluation {
    public static func run(csvPath: String, config: EvaluationConfig = EvaluationConfig()) throws -> EvaluationReport {
        try run(rows: ParkingCSV.read(path: csvPath), config: config)
    }

    public static func run(rows: [ParkingRow], config: EvaluationConfig = EvaluationConfig()) throws -> EvaluationReport {
        for h in config.horizonsMinutes where !EvaluationConfig.allowedHorizons.contains(h) {
            throw EvaluationError.horizonOutOfRange(h)
        }
        guard !config.horizonsMinutes.isEmpty else { throw EvaluationError.noHorizons }
        let (series, cleaning) = ParkingDataCleaning.clean(rows)
        guard let split = ChronologicalSplit.parkPulse(
            series: series, referenceHorizonMinutes: config.splitReferenceHorizonMinutes,
            toleranceMinutes: config.toleranceMinutes,
            trainFraction: config.trainFraction, validationFraction: config.validationFraction)
        else { throw EvaluationError.tooFewTimestamps }

        let horizons = Array(Set(config.horizonsMinutes)).sorted()
        var test = horizons.map { HorizonScores(horizonMinutes: $0) }
        var validation = horizons.map { HorizonScores(horizonMinutes: $0) }
        for s in series {
            replay(s, horizons: horizons, split: split, config: config, test: &test, validation: &validation)
        }
        return EvaluationReport(cleaning: cleaning, split: split, config: config,
                                test: test, validation: validation)
    }

    private static func replay(
        _ s: ParkSeries, horizons: [Int], split: ChronologicalSplit, config: EvaluationConfig,
        test: inout [HorizonScores], validation: inout [HorizonScores]
    ) {
        let tolerance = Int64(config.toleranceMinutes) * 60
        var model = OccupancyForecaster(capacity: Double(s.capacity), config: config.forecaster)
        for i in s.times.indices {
            model.observe(occupied: s.occupancy[i], at: Double(s.times[i]))
            for (k, h) in horizons.enumerated() {
                let horizon = Int64(h) * 60
                guard let j = TargetMatching.target(in: s.times, origin: i, horizon: horizon, tolerance: tolerance),
                      let part = split.part(origin: s.times[i], target: s.times[j]), part != .train
                else { continue }
                let at = config.forecastTime == .targetReading ? s.times[j] : s.times[i] + horizon
                let forecast = model.forecast(atEpochSeconds: Double(at)) ?? s.occupancy[i]
                let persistence = s.occupancy[i]
                var seasonal = persistence
                var fellBack = false
                if let w = TargetMatching.nearest(in: s.times, to: s.times[j] - 7 * 86_400, tolerance: tolerance, after: .min) {
                    seasonal = s.occupancy[w]
                } else if let d = TargetMatching.nearest(in: s.times, to: s.times[j] - 86_400, tolerance: tolerance, after: .min) {
                    seasonal = s.occupancy[d]
                } else {
                    fellBack = true
                }
                let actual = s.occupancy[j]
                if part == .test {
                    test[k].add(model: forecast, persistence: persistence, seasonal: seasonal, fellBack: fellBack, actual: actual)
                } else {
                    validation[k].add(model: forecast, persistence: persistence, seasonal: seasonal, fellBack: fellBack, actual: actual)
                }
            }
        }
    }
}

public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    case horizonOutOfRange(Int)
    case noHorizons
    case tooFewTimestamps

    public var description: String {
        switch self {
        case .horizonOutOfRange(let h):
            "horizon \(h) min is outside \(EvaluationConfig.allowedHorizons.lowerBound)...\(EvaluationConfig.allowedHorizons.upperBound)"
        case .noHorizons: "no horizons to evaluate"
        case .tooFewTimestamps: "too few timestamps with a target to split the data 70/15/15"
        }
    }
}

/// Errors of the three methods on the same pairs at one horizon.
public struct HorizonScores: Sendable, Equatable {
    public let horizonMinutes: Int
    public private(set) var model = ErrorStatistics()
    public private(set) var persistence = ErrorStatistics()
    public private(set) var seasonalNaive = ErrorStatistics()
    /// Pairs where seasonal naive had neither the week nor the day before and used
    /// persistence.
    public private(set) var seasonalFallbacks = 0

    public var count: Int { model.count }

    init(horizonMinutes: Int) { self.horizonMinutes = horizonMinutes }

    mutating func add(model m: Double, persistence p: Double, seasonal s: Double, fellBack: Bool, actual: Double) {
        model.add(forecast: m, actual: actual)
        persistence.add(forecast: p, actual: actual)
        seasonalNaive.add(forecast: s, actual: actual)
        if fellBack { seasonalFallbacks += 1 }
    }
}
