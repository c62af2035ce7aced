import Foundation

/// Occupancy forecasts for one zone or car park, learned online.
///
/// Superseded for the appliance by `FacilityForecaster` (all zones of a facility, shared
/// learning, better features); kept as is for existing callers and saved states, and as
/// the comparison in `parklink forecast evaluate --model zone`.
///
/// The model is "seasonal persistence with a learned correction":
///
///     ŷ(t+h) = y(t) + w_h · x(t, h)
///
/// where x holds the seasonal change P(t+h) − P(t) of a time-of-week/time-of-day profile
/// P, today's momentum against the profile's, and today's deviation from the profile
/// (`ForecastFeatures`), and w_h is fitted by recursive least squares per learned
/// horizon. Why this and not Holt-Winters: car parks differ from day to day mostly in
/// amplitude (a busy Saturday ramps up faster, and keeps doing so), which a regression
/// on momentum captures and additive Holt-Winters does not; and the seasonal profile
/// lets the same state serve any horizon at irregular sample times.
///
/// Every `observe` costs O(1) time and memory: two bin updates per profile, a scan of a
/// fixed ring of recent origins, and at most one 6×6 RLS step per learned horizon. The
/// whole state is `Codable` so the appliance can persist it and resume.
public struct OccupancyForecaster: Codable, Sendable, Equatable {
    public let capacity: Double
    public let config: ForecasterConfig

    private var weekly: SeasonalProfile
    private var daily: SeasonalProfile
    private var corrections: [RecursiveLeastSquares]
    private var origins: OriginRing
    /// Typical gap between readings (seconds), ignoring overnight gaps; sets how close a
    /// learned pair must be to its horizon.
    private var typicalGap: Double?
    private var last: Origin?

    private static let week = 7.0 * 86_400
    private static let day = 86_400.0
    private static let gapCeiling = 2.0 * 3_600

    public init(capacity: Double, config: ForecasterConfig = ForecasterConfig()) {
        precondition(capacity > 0, "capacity must be positive")
        precondition(!config.learnedHorizonsMinutes.isEmpty && config.learnedHorizonsMinutes.count <= 32)
        self.capacity = capacity
        self.config = config
        let bin = config.binMinutes * 60
        weekly = SeasonalProfile(periodSeconds: Self.week, binSeconds: bin)
        daily = SeasonalProfile(periodSeconds: Self.day, binSeconds: bin)
        corrections = config.learnedHorizonsMinutes.map { _ in
            RecursiveLeastSquares(prior: ForecastFeatures.prior, initialVariance: config.initialVariance)
        }
        let reach = config.longestLearnedMinutes + config.pairToleranceMinutes
        let slots = Int((reach / config.originSlotMinutes).rounded(.up)) + 2
        origins = OriginRing(capacity: slots, slotSeconds: config.originSlotMinutes * 60)
    }

    /// The newest observation: when (epoch seconds) and how many cars.
    public var lastObservation: (epochSeconds: Double, occupied: Double)? {
        guard let last else { return nil }
        return (utc(last.time), last.fraction * capacity)
    }

    /// How many pairs each learned horizon has been fitted on, keyed by minutes.
    public var learnedPairs: [Double: Int] {
        Dictionary(uniqueKeysWithValues: zip(config.learnedHorizonsMinutes, corrections.map(\.updates)))
    }

    // MARK: Observing

    /// Folds in one reading. Returns false (and changes nothing) for a reading that is not
    /// finite or not newer than the last one: the profiles and the origin ring assume
    /// time order, and a replayed reading must not count twice.
    /// Occupancy is clipped to [0, capacity] first.
    @discardableResult
    public mutating func observe(occupied: Double, at epochSeconds: Double) -> Bool {
        guard occupied.isFinite, epochSeconds.isFinite else { return false }
        let t = local(epochSeconds)
        if let last, t <= last.time { return false }
        let y = min(max(occupied, 0), capacity) / capacity
        let gap = last.map { t - $0.time }
        if let gap, gap <= Self.gapCeiling {
            typicalGap = typicalGap.map { 0.9 * $0 + 0.1 * gap } ?? gap
        }
        learnPairs(endingAt: t, fraction: y)

        let bin = config.binMinutes * 60
        let mass = gap.map { min($0, bin) / bin } ?? 1
        weekly.update(at: t, value: y, mass: mass, alpha: config.profileAlpha)
        daily.update(at: t, value: y, mass: mass, alpha: config.profileAlpha)

        let origin = Origin(
            time: t, fraction: y,
            lag1: origins.lag(at: t, ages: seconds(config.lag1Minutes)),
            lag2: origins.lag(at: t, ages: seconds(config.lag2Minutes))
        )
        origins.push(origin)
        last = origin
        return true
    }

    @discardableResult
    public mutating func observe(occupied: Double, at date: Date) -> Bool {
        observe(occupied: occupied, at: date.timeIntervalSince1970)
    }

    /// For each learned horizon, the origin about `h` before this reading becomes one
    /// training pair, with features computed for the pair's actual spacing. Runs before
    /// the profile sees the reading, so the target never leaks into its own features.
    private mutating func learnPairs(endingAt t: Double, fraction y: Double) {
        let tolerance = min(config.pairToleranceMinutes * 60, max(60, (typicalGap ?? .infinity) / 2))
        for (k, origin) in origins.claimOrigins(endingAt: t, horizonsMinutes: config.learnedHorizonsMinutes, tolerance: tolerance) {
            guard let x = ForecastFeatures.make(origin: origin, offset: t - origin.time, profile: profile)
            else { continue }
            // λ per half hour of feed, so a dense feed does not forget faster.
            let elapsed = corrections[k].lastUpdate.map { min(t - $0, 1_800) } ?? 1_800
            let lambda = pow(config.forgetting, elapsed / 1_800)
            corrections[k].update(x, target: y - origin.fraction, forgetting: lambda, at: t)
        }
    }

    // MARK: Forecasting

    /// Cars expected `horizonMinutes` after `from` (epoch seconds), in [0, capacity].
    /// Nil before the first observation. `from` may be later than the last reading: the
    /// forecast is then for `from + h`, made from the last reading.
    public func forecast(horizonMinutes: Double, from epochSeconds: Double) -> Double? {
        forecast(atEpochSeconds: epochSeconds + horizonMinutes * 60)
    }

    public func forecast(horizonMinutes: Double, from date: Date) -> Double? {
        forecast(horizonMinutes: horizonMinutes, from: date.timeIntervalSince1970)
    }

    /// Cars expected at `target` (epoch seconds).
    ///
    /// - At or before the last reading: the last reading.
    /// - Within the longest learned horizon (+ tolerance): the corrected forecast; with
    ///   no profile yet for the origin or the target, persistence.
    /// - Further out: the seasonal profile alone (today's momentum says little about
    ///   tomorrow), or persistence while the profile is empty there.
    public func forecast(atEpochSeconds target: Double) -> Double? {
        guard let origin = origins.newest, target.isFinite else { return nil }
        let t = local(target)
        let offset = t - origin.time
        let fraction: Double
        if offset <= 0 {
            fraction = origin.fraction
        } else if offset > (config.longestLearnedMinutes + config.pairToleranceMinutes) * 60 {
            fraction = profile(t) ?? origin.fraction
        } else if let x = ForecastFeatures.make(origin: origin, offset: offset, profile: profile) {
            fraction = origin.fraction + correction(x, offsetMinutes: offset / 60)
        } else {
            fraction = origin.fraction
        }
        return min(max(fraction, 0), 1) * capacity
    }

    /// Linear interpolation between the two nearest learned horizons that have seen
    /// enough pairs; the nearest one outside their span; the prior if none has.
    private func correction(_ x: [Double], offsetMinutes h: Double) -> Double {
        HorizonInterpolation.interpolate(at: h, horizons: config.learnedHorizonsMinutes, fallback: x[0]) { k in
            corrections[k].updates >= config.minimumPairs ? corrections[k].predict(x) : nil
        }
    }

    /// Blend of the weekly and daily profiles; the daily one alone while the weekly bin
    /// is new; nil while even the daily one is.
    private func profile(_ t: Double) -> Double? {
        guard let d = daily.value(at: t, minimumVisits: config.minimumBinVisits) else { return nil }
        guard let w = weekly.value(at: t, minimumVisits: config.minimumBinVisits) else { return d }
        return config.weeklyWeight * w + (1 - config.weeklyWeight) * d
    }

    // MARK: Time

    private func local(_ epochSeconds: Double) -> Double {
        epochSeconds + Double(config.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: epochSeconds)))
    }

    /// Inverse of `local` up to a DST change within the hour.
    private func utc(_ localSeconds: Double) -> Double {
        let guess = localSeconds - Double(config.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: localSeconds)))
        return localSeconds - Double(config.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: guess)))
    }

    private func seconds(_ minutes: ClosedRange<Double>) -> ClosedRange<Double> {
        (minutes.lowerBound * 60)...(minutes.upperBound * 60)
    }
}
