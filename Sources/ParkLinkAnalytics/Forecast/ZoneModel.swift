import Foundation

/// One zone's part of `FacilityForecaster`: its profiles, the last week of its readings,
/// its recent origins, and its own correction on top of the facility's shared one.
/// Times are local wall-clock seconds; occupancy is a fraction of capacity.
struct ZoneModel: Codable, Sendable, Equatable {
    var capacity: Double
    private var weekly: StableProfile
    private var dayType: StableProfile
    private var history: ReadingHistory
    private var origins: OriginRing
    /// Typical gap between readings (seconds), ignoring gaps over two hours.
    private var typicalGap: Double?
    private(set) var last: Origin?
    /// The zone's own correction, fitted to what the shared one leaves over.
    private(set) var own: [RecursiveLeastSquares]
    /// Typical size of the forecast's error (fraction of capacity) per learned horizon,
    /// weekdays at 2k and weekends at 2k+1: the unit of the prediction interval. Kept per
    /// zone and day type because errors differ that much (a busy shopping car park on a
    /// December Saturday against a quiet one on a Tuesday); nil until the first error.
    private(set) var errorScale: [Double?]

    private static let week = 7 * StableProfile.day
    /// How far back "a week ago" and "the latest day of the same type" may look.
    static let lookBackDays = 14
    private static let gapCeiling = 2.0 * 3_600

    init(capacity: Double, config: FacilityForecasterConfig) {
        self.capacity = capacity
        let bin = config.binMinutes * 60
        weekly = StableProfile(layout: .week, binSeconds: bin)
        dayType = StableProfile(layout: .dayType, binSeconds: bin)
        let reach = (config.longestLearnedMinutes + config.pairToleranceMinutes) * 60
        // A pair is learned up to `reach` after its origin and looks up to two weeks back
        // from the origin, so the ring must hold that plus `reach`, plus the tolerance.
        history = ReadingHistory(span: Double(Self.lookBackDays) * StableProfile.day + reach + config.pairToleranceMinutes * 60 + 1_800,
                                 slotSeconds: config.historySlotMinutes * 60)
        let slots = Int((reach / 60 / config.originSlotMinutes).rounded(.up)) + 2
        origins = OriginRing(capacity: slots, slotSeconds: config.originSlotMinutes * 60)
        own = config.learnedHorizonsMinutes.map { _ in
            RecursiveLeastSquares(prior: [Double](repeating: 0, count: FacilityFeatures.count),
                                  initialVariance: config.zoneVariance)
        }
        errorScale = Array(repeating: nil, count: 2 * config.learnedHorizonsMinutes.count)
    }

    var newest: Origin? { origins.newest }

    // MARK: Observing

    /// A training pair: features of an origin about `learnedHorizonsMinutes[k]` before the
    /// new reading, and the change that followed.
    struct Pair {
        var horizon: Int
        var x: [Double]
        var target: Double
        /// Local time of the origin.
        var originTime: Double
    }

    /// Folds in one reading (local time `t`, fraction `y`) and returns the training pairs
    /// it completes, their features computed before the reading touched any state the
    /// features read. Nil (and nothing changed) for a reading not newer than the last.
    mutating func observe(fraction y: Double, at t: Double, config: FacilityForecasterConfig) -> [Pair]? {
        if let last, t <= last.time { return nil }
        let gap = last.map { t - $0.time }
        if let gap, gap <= Self.gapCeiling {
            typicalGap = typicalGap.map { 0.9 * $0 + 0.1 * gap } ?? gap
        }

        var pairs: [Pair] = []
        let tolerance = min(config.pairToleranceMinutes * 60, max(60, (typicalGap ?? .infinity) / 2))
        for (k, origin) in origins.claimOrigins(endingAt: t, horizonsMinutes: config.learnedHorizonsMinutes, tolerance: tolerance) {
            guard let x = features(origin: origin, offset: t - origin.time, config: config) else { continue }
            pairs.append(Pair(horizon: k, x: x, target: y - origin.fraction, originTime: origin.time))
        }

        let bin = config.binMinutes * 60
        let mass = gap.map { min($0, bin) / bin } ?? 1
        weekly.update(at: t, value: y, mass: mass, alpha: config.profileAlpha)
        dayType.update(at: t, value: y, mass: mass, alpha: config.profileAlpha)
        history.record(y, at: t)
        let origin = Origin(
            time: t, fraction: y,
            lag1: origins.lag(at: t, ages: (config.lag1Minutes.lowerBound * 60)...(config.lag1Minutes.upperBound * 60)),
            lag2: origins.lag(at: t, ages: (config.lag2Minutes.lowerBound * 60)...(config.lag2Minutes.upperBound * 60))
        )
        origins.push(origin)
        last = origin
        return pairs
    }

    mutating func learnOwn(_ pair: Pair, residual: Double, weight: Double, at t: Double, config: FacilityForecasterConfig) {
        let elapsed = own[pair.horizon].lastUpdate.map { min(max(t - $0, 0), 1_800) } ?? 1_800
        own[pair.horizon].update(pair.x, target: residual, forgetting: pow(config.zoneForgetting, elapsed / 1_800),
                                 at: t, weight: weight)
    }

    static func scaleIndex(horizon k: Int, localTime t: Double) -> Int {
        2 * k + (StableProfile.isWeekend(day: StableProfile.dayNumber(t)) ? 1 : 0)
    }

    /// Folds the size of one forecast error (the forecast from an origin at local time
    /// `t`) into the zone's error scale.
    mutating func learnErrorScale(_ error: Double, horizon k: Int, origin t: Double, config: FacilityForecasterConfig) {
        let i = Self.scaleIndex(horizon: k, localTime: t)
        let size = abs(error)
        errorScale[i] = errorScale[i].map { $0 + config.intervalScaleRate * (size - $0) } ?? size
    }

    // MARK: Reading

    /// Blend of the weekly and day-type profiles as of the start of `asOfDay` (nil: as
    /// now); the day-type one alone while the weekly bin is new; nil while both are.
    func profile(_ t: Double, asOfDay: Int?, config: FacilityForecasterConfig) -> Double? {
        guard let d = dayType.value(at: t, minimumVisits: config.minimumBinVisits, asOfDay: asOfDay) else { return nil }
        guard let w = weekly.value(at: t, minimumVisits: config.minimumBinVisits, asOfDay: asOfDay) else { return d }
        return config.weeklyWeight * w + (1 - config.weeklyWeight) * d
    }

    /// Nil when the profile cannot say what is usual at the origin or `offset` after it.
    func features(origin o: Origin, offset: Double, config: FacilityForecasterConfig) -> [Double]? {
        let today = StableProfile.dayNumber(o.time)
        func usual(_ t: Double) -> Double? { profile(t, asOfDay: today, config: config) }
        guard let now = usual(o.time), let then = usual(o.time + offset) else { return nil }
        let weekend = StableProfile.isWeekend(day: today)
        var inputs = FacilityFeatures.Inputs(
            seasonalChange: then - now, deviation: o.fraction - now, level: o.fraction,
            isFirstReading: o.lag1 == nil, isWeekend: weekend
        )
        if let lag = o.lag1, let u = usual(lag.time) {
            inputs.momentum1 = o.fraction - lag.fraction
            inputs.seasonalMomentum1 = now - u
        }
        if let lag = o.lag2, let u = usual(lag.time) {
            inputs.momentum2 = o.fraction - lag.fraction
            inputs.seasonalMomentum2 = now - u
        }
        let tolerance = config.pairToleranceMinutes * 60
        func change(daysBack: Int) -> Double? {
            let back = Double(daysBack) * StableProfile.day
            guard let a = history.nearest(to: o.time - back, tolerance: tolerance),
                  let b = history.nearest(to: o.time + offset - back, tolerance: tolerance)
            else { return nil }
            return b - a
        }
        inputs.weekAgoChange = change(daysBack: 7) ?? change(daysBack: 14)
        // The latest earlier day of the same type with readings at these hours: a day
        // without data (a feed outage, a closure) must not blank the reference.
        for back in 1..<Self.lookBackDays where StableProfile.isWeekend(day: today - back) == weekend {
            if let c = change(daysBack: back) {
                inputs.dayTypeAgoChange = c
                break
            }
        }
        return FacilityFeatures.vector(inputs)
    }
}
