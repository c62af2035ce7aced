import Foundation

/// Occupancy forecasts for every zone of a facility, learned online, with the learning
/// shared across zones.
///
///     ŷ_z(t+h) = y_z(t) + (w_h + v_{z,h}) · x_z(t, h)
///
/// x_z are the regressors of `FacilityFeatures` (seasonal change of a profile read as of
/// the start of the day, momentum, deviation, the same hours a week ago and on the latest
/// day of the same type with data, the slowdown as a zone fills, with first-reading and
/// weekend copies), w_h is fitted by recursive least squares on the pairs of ALL zones,
/// and v_{z,h} by a second, small RLS per zone on what w_h leaves over, pulled towards
/// zero by its prior. Thirty zones teach w_h thirty times as fast as one, which is what
/// lets the model afford 28 regressors; v_{z,h} keeps what is particular to a zone. Both
/// updates are robust (Huber-weighted), so one glitched reading cannot swing them.
///
/// Every forecast has an 80% prediction interval (`prediction`), calibrated online from
/// the errors the model makes as their readings arrive, and `minutesToFull` says when
/// the forecast sees a zone full within the hour (the sampler's ZONE_FILLING alert).
///
/// Cost: `observe` is O(1) per zone sample — two bin updates per profile, one history
/// slot, a scan of a fixed ring of origins, and per learned horizon at most one 28×28 RLS
/// step on the shared and one on the zone's coefficients. `forecast` is O(1) too. Memory
/// is fixed per zone whatever the feed rate (two weeks of readings at 10-minute resolution
/// are the largest part). The whole state is `Codable` so the appliance can persist and resume.
///
/// Zones are independent apart from the shared coefficients: they may be observed at
/// different times and rates, each in its own time order. On the Birmingham data
/// (`parklink forecast evaluate`, 30 car parks as zones), test-part MAE at 30 min fell
/// from 15.16 cars (`OccupancyForecaster`) to 12.83; see `ForecastEvaluation`.
///
/// Not in the model: a cross-zone busyness signal (how busy the other zones are against
/// their profiles right now). It was tried on the validation part as extra regressors
/// and gave nothing measurable, nor did lagged signals of single other car parks; what
/// the zones share usefully is the learning, not a signal.
public struct FacilityForecaster: Codable, Sendable, Equatable {
    public let config: FacilityForecasterConfig
    private var index: [String: Int]
    private var zones: [ZoneModel]
    private var shared: [RecursiveLeastSquares]
    /// Where the interval's ends lie per learned horizon, in units of the zone's error
    /// scale, tracked online over the errors of all zones.
    private var calibration: [IntervalCalibration]

    /// Zones with a capacity that is not positive and finite are left out (observing them
    /// returns false, forecasting them nil).
    public init(capacities: [String: Double], config: FacilityForecasterConfig = FacilityForecasterConfig()) {
        precondition(!config.learnedHorizonsMinutes.isEmpty && config.learnedHorizonsMinutes.count <= 32)
        precondition(config.binMinutes > 0 && config.historySlotMinutes > 0 && config.originSlotMinutes > 0)
        self.config = config
        index = [:]
        zones = []
        shared = config.learnedHorizonsMinutes.map { _ in
            RecursiveLeastSquares(prior: FacilityFeatures.prior, initialVariance: config.initialVariance)
        }
        calibration = config.learnedHorizonsMinutes.map { _ in IntervalCalibration(coverage: config.intervalCoverage) }
        for (zone, capacity) in capacities.sorted(by: { $0.key < $1.key }) {
            setCapacity(capacity, forZone: zone)
        }
    }

    /// The zones being forecast, sorted.
    public var zoneNames: [String] { index.keys.sorted() }

    public func capacity(ofZone zone: String) -> Double? {
        index[zone].map { zones[$0].capacity }
    }

    /// Adds a zone, or changes a known zone's capacity (what it learned, in fractions of
    /// capacity, is kept). A capacity that is not positive and finite is ignored.
    public mutating func setCapacity(_ capacity: Double, forZone zone: String) {
        guard capacity > 0, capacity.isFinite else { return }
        if let i = index[zone] {
            zones[i].capacity = capacity
        } else {
            index[zone] = zones.count
            zones.append(ZoneModel(capacity: capacity, config: config))
        }
    }

    /// Forgets a zone (e.g. one removed from the configuration). What it taught the shared
    /// coefficients stays.
    public mutating func removeZone(_ zone: String) {
        guard let i = index.removeValue(forKey: zone) else { return }
        zones.remove(at: i)
        for (name, j) in index where j > i { index[name] = j - 1 }
    }

    // MARK: Observing

    /// Folds in one reading of one zone. Returns false (and changes nothing) for an unknown
    /// zone, a reading that is not finite, or one not newer than that zone's last.
    /// Occupancy is clipped to [0, capacity] first.
    @discardableResult
    public mutating func observe(zone: String, occupied: Double, at epochSeconds: Double) -> Bool {
        guard let i = index[zone], occupied.isFinite, epochSeconds.isFinite else { return false }
        let t = local(epochSeconds)
        let capacity = zones[i].capacity
        let y = min(max(occupied, 0), capacity) / capacity
        guard let pairs = zones[i].observe(fraction: y, at: t, config: config) else { return false }
        for pair in pairs {
            let k = pair.horizon
            // The error of the forecast as `forecast` would have made it: what the
            // interval must cover.
            let sharedPart = shared[k].predict(pair.x)
            var full = pair.x[0]
            if shared[k].updates >= config.minimumPairs {
                full = sharedPart
                if zones[i].own[k].updates >= config.minimumPairs { full += zones[i].own[k].predict(pair.x) }
            }
            let error = pair.target - full
            if let scale = zones[i].errorScale[ZoneModel.scaleIndex(horizon: k, localTime: pair.originTime)], scale > 0 {
                calibration[k].learn(normalizedError: error / scale, rate: config.intervalQuantileRate)
            }
            zones[i].learnErrorScale(error, horizon: k, origin: pair.originTime, config: config)

            let elapsed = shared[k].lastUpdate.map { min(max(t - $0, 0), 1_800) } ?? 1_800
            shared[k].update(pair.x, target: pair.target, forgetting: pow(config.sharedForgetting, elapsed / 1_800), at: t,
                             weight: robustWeight(pair.target - sharedPart))
            let residual = pair.target - shared[k].predict(pair.x)
            zones[i].learnOwn(pair, residual: residual, weight: robustWeight(residual - zones[i].own[k].predict(pair.x)),
                              at: t, config: config)
        }
        return true
    }

    private func robustWeight(_ error: Double) -> Double {
        let c = config.robustErrorFraction
        return c > 0 && abs(error) > c ? c / abs(error) : 1
    }

    @discardableResult
    public mutating func observe(zone: String, occupied: Double, at date: Date) -> Bool {
        observe(zone: zone, occupied: occupied, at: date.timeIntervalSince1970)
    }

    /// Folds in one reading per zone taken at the same moment (the sampler's cycle), in
    /// zone-name order. Returns how many were accepted.
    @discardableResult
    public mutating func observe(_ occupancy: [String: Double], at epochSeconds: Double) -> Int {
        var accepted = 0
        for (zone, occupied) in occupancy.sorted(by: { $0.key < $1.key })
        where observe(zone: zone, occupied: occupied, at: epochSeconds) {
            accepted += 1
        }
        return accepted
    }

    /// The zone's newest observation: when (epoch seconds) and how many cars.
    public func lastObservation(zone: String) -> (epochSeconds: Double, occupied: Double)? {
        guard let i = index[zone], let last = zones[i].last else { return nil }
        return (utc(last.time), last.fraction * zones[i].capacity)
    }

    /// Pairs the shared coefficients of each learned horizon were fitted on, keyed by minutes.
    public var sharedPairs: [Double: Int] {
        Dictionary(uniqueKeysWithValues: zip(config.learnedHorizonsMinutes, shared.map(\.updates)))
    }

    /// Pairs a zone's own coefficients were fitted on, keyed by minutes.
    public func learnedPairs(zone: String) -> [Double: Int]? {
        guard let i = index[zone] else { return nil }
        return Dictionary(uniqueKeysWithValues: zip(config.learnedHorizonsMinutes, zones[i].own.map(\.updates)))
    }

    // MARK: Forecasting

    /// Cars expected in `zone` `horizonMinutes` after `from` (epoch seconds), in
    /// [0, capacity]. Nil for an unknown zone or before its first observation. `from` may be
    /// later than the zone's last reading: the forecast is then for `from + h`, made from
    /// that reading.
    public func forecast(zone: String, horizonMinutes: Double, from epochSeconds: Double) -> Double? {
        forecast(zone: zone, atEpochSeconds: epochSeconds + horizonMinutes * 60)
    }

    public func forecast(zone: String, horizonMinutes: Double, from date: Date) -> Double? {
        forecast(zone: zone, horizonMinutes: horizonMinutes, from: date.timeIntervalSince1970)
    }

    /// Cars expected in `zone` at `target` (epoch seconds).
    ///
    /// - At or before the zone's last reading: that reading.
    /// - Within the longest learned horizon (+ tolerance): the corrected forecast;
    ///   persistence while the profile cannot say what is usual at the origin or target.
    /// - Further out: the profile alone (including today), or persistence while it is empty.
    public func forecast(zone: String, atEpochSeconds target: Double) -> Double? {
        prediction(zone: zone, atEpochSeconds: target)?.expected
    }

    /// The forecast for `zone` at `target` (epoch seconds) with its prediction interval
    /// (`config.intervalCoverage`, 80% by default), all in cars within [0, capacity].
    ///
    /// The interval is the forecast plus the zone's typical error at that horizon and day
    /// type times two multipliers that are tracked online over the errors of all zones, so
    /// that a share (1 − coverage)/2 of the readings falls below it and as many above. It
    /// interpolates between learned horizons like the forecast; beyond the longest it is
    /// the longest one's; at or before the last reading it is that reading.
    public func prediction(zone: String, atEpochSeconds target: Double) -> Prediction? {
        guard let i = index[zone], let origin = zones[i].newest, target.isFinite else { return nil }
        let z = zones[i]
        let t = local(target)
        let offset = t - origin.time
        let fraction: Double
        var spread = (lower: 0.0, upper: 0.0)
        if offset <= 0 {
            fraction = origin.fraction
        } else {
            spread = interval(zone: z, origin: origin.time, offsetMinutes: offset / 60)
            if offset > (config.longestLearnedMinutes + config.pairToleranceMinutes) * 60 {
                fraction = z.profile(t, asOfDay: nil, config: config) ?? origin.fraction
            } else if let x = z.features(origin: origin, offset: offset, config: config) {
                fraction = origin.fraction + correction(x, zone: z, offsetMinutes: offset / 60)
            } else {
                fraction = origin.fraction
            }
        }
        func cars(_ f: Double) -> Double { min(max(f, 0), 1) * z.capacity }
        return Prediction(expected: cars(fraction), lower: cars(fraction + spread.lower), upper: cars(fraction + spread.upper))
    }

    /// The interval's offsets from the forecast (fractions of capacity); zero width while
    /// no horizon has a scale and a calibration yet.
    private func interval(zone z: ZoneModel, origin: Double, offsetMinutes h: Double) -> (lower: Double, upper: Double) {
        func end(_ pick: @escaping (IntervalCalibration) -> Double) -> Double {
            HorizonInterpolation.interpolate(at: min(h, config.longestLearnedMinutes), horizons: config.learnedHorizonsMinutes,
                                             fallback: 0) { k in
                guard calibration[k].updates >= config.minimumPairs,
                      let scale = z.errorScale[ZoneModel.scaleIndex(horizon: k, localTime: origin)]
                else { return nil }
                return scale * pick(calibration[k])
            }
        }
        return (end(\.lower), end(\.upper))
    }

    /// Minutes from `from` (epoch seconds) until the forecast says `zone` is full (less
    /// than half a space left), if that happens within `withinMinutes`; 0 when its newest
    /// reading already is. Nil when it does not fill in that time, for an unknown zone and
    /// before the first reading.
    ///
    /// Scans the forecast in 5-minute steps (twelve O(1) forecasts for an hour) and
    /// interpolates linearly inside the step where it crosses: the forecasts between
    /// learned horizons are linear anyway.
    public func minutesToFull(zone: String, from epochSeconds: Double, withinMinutes: Double = 60) -> Double? {
        guard let capacity = capacity(ofZone: zone), let now = forecast(zone: zone, atEpochSeconds: epochSeconds),
              epochSeconds.isFinite, withinMinutes > 0
        else { return nil }
        let full = capacity - 0.5
        if now >= full { return 0 }
        var previous = (minutes: 0.0, cars: now)
        var m = 0.0
        while m < withinMinutes {
            m = min(m + 5, withinMinutes)
            guard let cars = forecast(zone: zone, atEpochSeconds: epochSeconds + m * 60) else { return nil }
            if cars >= full {
                let step = cars - previous.cars
                let into = step > 0 ? (full - previous.cars) / step : 1
                return previous.minutes + into * (m - previous.minutes)
            }
            previous = (m, cars)
        }
        return nil
    }

    /// Shared plus the zone's own correction, interpolated linearly between the two
    /// nearest learned horizons whose shared part has seen enough pairs (the zone's part
    /// counts once it has too); the prior when none has.
    private func correction(_ x: [Double], zone z: ZoneModel, offsetMinutes h: Double) -> Double {
        HorizonInterpolation.interpolate(at: h, horizons: config.learnedHorizonsMinutes, fallback: x[0]) { k in
            guard shared[k].updates >= config.minimumPairs else { return nil }
            var value = shared[k].predict(x)
            if z.own[k].updates >= config.minimumPairs { value += z.own[k].predict(x) }
            return value
        }
    }

    // MARK: Time

    private func local(_ epochSeconds: Double) -> Double {
        epochSeconds + Double(config.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: epochSeconds)))
    }

    private func utc(_ localSeconds: Double) -> Double {
        let guess = localSeconds - Double(config.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: localSeconds)))
        return localSeconds - Double(config.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: guess)))
    }
}
