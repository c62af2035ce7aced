import Foundation

/// Walk-forward replay of a car-park CSV through the model the appliance runs, scored
/// against persistence and seasonal naive.
///
/// All car parks are zones of one `FacilityForecaster` (or, with `model = .zone`, each has
/// its own `OccupancyForecaster`, the earlier model). Readings are fed in time order
/// across car parks; readings with the same timestamp (most car parks report together)
/// are all observed, then each horizon's forecast from each of them is made and, if the
/// reading is an origin of the part being scored, compared with its target reading (see
/// `TargetMatching`). So when a forecast is made the model has seen exactly the readings
/// at or before its origin's time, of its own and of the other car parks, and nothing
/// later; it learns online all the way through (train and validation parts are its
/// warm-up; it keeps learning in the test part, as it would live).
///
/// Baselines, on exactly the same (origin, target) pairs:
/// - persistence: the origin's occupancy;
/// - seasonal naive: the reading nearest to the target's time minus 7 days (±tolerance);
///   if none, minus 1 day; if neither, persistence (counted as `seasonalFallbacks`).
///
/// Each forecast of the facility model comes with its 80% interval (`FacilityForecaster
/// .prediction`); the report gives its coverage and mean width, and every score also by
/// the origin's day type (weekday or weekend).
///
/// Protocol: features and hyper-parameters (`FacilityForecasterConfig` defaults) were
/// chosen on the validation part only: 32 candidates in the second round, each a
/// `--model-config` file; the chosen one was then scored once on the test part, with
/// nothing changed afterwards. A third round of 49 (README) scored two on the test part,
/// neither better, and left the model as it was. On the Birmingham file, MAE / RMSE in cars:
///
///     horizon  part    n     FacilityForecaster  80% cover / width  persistence
///     15 min   test    141    8.43 / 12.39       86.5% / 40.2       26.87 / 51.38
///     30 min   test   4873   12.83 / 20.47       79.7% / 42.5       49.37 / 89.36
///     60 min   test   4538   21.88 / 35.27       75.4% / 63.5       95.61 / 174.05
///     30 min   valid  4160   12.56 / 20.94       80.3% / 40.6       55.93 / 94.80
///     60 min   valid  3857   19.90 / 33.29       78.6% / 60.6      108.79 / 185.08
///
/// The targets: MAE ≤ 13 at 30 min is met (12.83); ≤ 20 at 60 min is missed by
/// 1.88 cars. A third of the test origins fall on weekends (8% of the validation ones),
/// where the model errs more (test at 60 min: 19.98 on weekdays, 25.66 at weekends).
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
        var model = Replayed(series: series, config: config)

        // Every reading of every car park, in time order (car-park order within a timestamp).
        var events: [(time: Int64, park: Int, index: Int)] = []
        events.reserveCapacity(series.reduce(0) { $0 + $1.times.count })
        for (p, s) in series.enumerated() {
            for i in s.times.indices { events.append((s.times[i], p, i)) }
        }
        events.sort { ($0.time, $0.park) < ($1.time, $1.park) }

        let tolerance = Int64(config.toleranceMinutes) * 60
        var start = 0
        while start < events.count {
            var end = start
            while end < events.count && events[end].time == events[start].time { end += 1 }
            model.observe(events[start..<end].map { ($0.park, $0.index) }, at: Double(events[start].time))
            for e in events[start..<end] {
                let s = series[e.park], i = e.index
                for (k, h) in horizons.enumerated() {
                    let horizon = Int64(h) * 60
                    guard let j = TargetMatching.target(in: s.times, origin: i, horizon: horizon, tolerance: tolerance),
                          let part = split.part(origin: s.times[i], target: s.times[j]), part != .train
                    else { continue }
                    let at = config.forecastTime == .targetReading ? s.times[j] : s.times[i] + horizon
                    let prediction = model.forecast(park: e.park, at: Double(at))
                    let forecast = prediction?.expected ?? s.occupancy[i]
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
                    let weekend = StableProfile.isWeekend(day: StableProfile.dayNumber(Double(s.times[i])))
                    let interval = config.model == .facility ? prediction : nil
                    if part == .test {
                        test[k].add(model: forecast, interval: interval, persistence: persistence, seasonal: seasonal,
                                    fellBack: fellBack, actual: actual, weekend: weekend)
                    } else {
                        validation[k].add(model: forecast, interval: interval, persistence: persistence, seasonal: seasonal,
                                          fellBack: fellBack, actual: actual, weekend: weekend)
                    }
                }
            }
            start = end
        }
        return EvaluationReport(cleaning: cleaning, split: split, config: config,
                                test: test, validation: validation)
    }

    /// The replayed model, whichever `EvaluationConfig.model` names.
    private struct Replayed {
        let series: [ParkSeries]
        var facility: FacilityForecaster?
        var zones: [OccupancyForecaster] = []

        init(series: [ParkSeries], config: EvaluationConfig) {
            self.series = series
            switch config.model {
            case .facility:
                var capacities: [String: Double] = [:]
                for s in series { capacities[s.park] = Double(s.capacity) }
                facility = FacilityForecaster(capacities: capacities, config: config.facility)
            case .zone:
                zones = series.map { OccupancyForecaster(capacity: Double($0.capacity), config: config.forecaster) }
            }
        }

        /// The readings of one timestamp. The facility model takes them in one call, the
        /// sampler's (`observe(_:at:)`, one reading per zone per cycle), so that the figures
        /// are those of the code the appliance runs.
        mutating func observe(_ readings: [(park: Int, index: Int)], at time: Double) {
            if facility != nil {
                var cycle: [String: Double] = [:]
                for r in readings { cycle[series[r.park].park] = series[r.park].occupancy[r.index] }
                facility!.observe(cycle, at: time)
            } else {
                for r in readings { zones[r.park].observe(occupied: series[r.park].occupancy[r.index], at: time) }
            }
        }

        /// The per-zone model has no interval: its prediction's ends are the forecast.
        func forecast(park p: Int, at time: Double) -> Prediction? {
            if let facility { return facility.prediction(zone: series[p].park, atEpochSeconds: time) }
            return zones[p].forecast(atEpochSeconds: time).map { Prediction(expected: $0, lower: $0, upper: $0) }
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

/// Errors of the three methods on the same pairs at one horizon, with the model's
/// interval, overall and by the origin's day type.
public struct HorizonScores: Sendable, Equatable {
    public let horizonMinutes: Int
    public private(set) var all = PairScores()
    public private(set) var weekday = PairScores()
    public private(set) var weekend = PairScores()

    public var model: ErrorStatistics { all.model }
    public var persistence: ErrorStatistics { all.persistence }
    public var seasonalNaive: ErrorStatistics { all.seasonalNaive }
    /// Pairs where seasonal naive had neither the week nor the day before and used
    /// persistence.
    public var seasonalFallbacks: Int { all.seasonalFallbacks }
    public var interval: IntervalStatistics { all.interval }
    public var count: Int { model.count }

    init(horizonMinutes: Int) { self.horizonMinutes = horizonMinutes }

    mutating func add(model m: Double, interval: Prediction?, persistence p: Double, seasonal s: Double, fellBack: Bool,
                      actual: Double, weekend isWeekend: Bool) {
        all.add(model: m, interval: interval, persistence: p, seasonal: s, fellBack: fellBack, actual: actual)
        if isWeekend {
            weekend.add(model: m, interval: interval, persistence: p, seasonal: s, fellBack: fellBack, actual: actual)
        } else {
            weekday.add(model: m, interval: interval, persistence: p, seasonal: s, fellBack: fellBack, actual: actual)
        }
    }
}

/// The scores of one set of pairs.
public struct PairScores: Sendable, Equatable {
    public private(set) var model = ErrorStatistics()
    public private(set) var persistence = ErrorStatistics()
    public private(set) var seasonalNaive = ErrorStatistics()
    public private(set) var seasonalFallbacks = 0
    public private(set) var interval = IntervalStatistics()

    mutating func add(model m: Double, interval i: Prediction?, persistence p: Double, seasonal s: Double, fellBack: Bool,
                      actual: Double) {
        model.add(forecast: m, actual: actual)
        persistence.add(forecast: p, actual: actual)
        seasonalNaive.add(forecast: s, actual: actual)
        if fellBack { seasonalFallbacks += 1 }
        if let i { interval.add(i, actual: actual) }
    }
}

/// How often the prediction interval held the reading, and how wide it was (cars).
public struct IntervalStatistics: Sendable, Equatable {
    public private(set) var count = 0
    private var covered = 0
    private var sumWidth = 0.0

    public init() {}

    public mutating func add(_ p: Prediction, actual: Double) {
        count += 1
        if p.covers(actual) { covered += 1 }
        sumWidth += p.width
    }

    /// Share of readings inside the interval; nil with none.
    public var coverage: Double? { count > 0 ? Double(covered) / Double(count) : nil }
    public var meanWidth: Double? { count > 0 ? sumWidth / Double(count) : nil }
}
