import Foundation

/// Hyper-parameters of `FacilityForecaster`.
///
/// Chosen on the validation part of the Birmingham data only (the 15% after the first
/// 70%, see `ForecastEvaluation`); the test part was scored once per candidate that was
/// taken that far. The first grid — zone forgetting 0.99/0.995 × zone prior variance
/// 0.1/0.3 × profile rate 0.2/0.3 × weekly weight 0.5/0.7 — kept validation MAE at 30 min
/// between 12.88 and 13.05 cars: no knife edge. The second round (see README, "Forecast
/// evaluation on real data") added the level interactions of `FacilityFeatures`, the
/// two-week look-back, the robust update and zone forgetting 0.99.
public struct FacilityForecasterConfig: Codable, Sendable, Equatable {
    /// Width of one profile bin.
    public var binMinutes: Double = 30
    /// How fast a profile bin forgets (a running mean until it has seen 1/rate visits).
    public var profileAlpha: Double = 0.3
    /// Weight of the time-of-week profile against the day-type (weekday/weekend) one.
    public var weeklyWeight: Double = 0.7
    /// A bin is trusted once it holds this many visits.
    public var minimumBinVisits: Double = 1.5
    /// Horizons the correction is learned for; others interpolate between them.
    public var learnedHorizonsMinutes: [Double] = [15, 30, 60, 120]
    /// A reading counts as the target of a learned horizon when it lies this close to
    /// origin + horizon; shrinks to half the typical sample gap for denser feeds. Also how
    /// far from "a week ago" a past reading may lie to stand for it.
    public var pairToleranceMinutes: Double = 10
    /// Forgetting of the facility-wide (shared) coefficients per 30 minutes of feed.
    public var sharedForgetting: Double = 0.995
    /// Forgetting of each zone's own correction per 30 minutes of its feed.
    public var zoneForgetting: Double = 0.99
    /// Prior variance of the shared coefficients around "persistence plus the seasonal
    /// change".
    public var initialVariance: Double = 1.0
    /// Prior variance of a zone's own correction around zero: how far one zone may move
    /// away from what the facility has learned.
    public var zoneVariance: Double = 0.3
    /// A learned horizon (shared or a zone's own part) is used once it has seen this many
    /// pairs.
    public var minimumPairs: Int = 20
    /// Ages of the readings the momentum features look back to.
    public var lag1Minutes: ClosedRange<Double> = 20...45
    public var lag2Minutes: ClosedRange<Double> = 50...75
    /// One learning origin per slot, whatever the feed rate.
    public var originSlotMinutes: Double = 5
    /// Resolution of the week of raw readings kept per zone for the "same hours a week
    /// ago / on the previous day of the same type" features.
    public var historySlotMinutes: Double = 10
    /// Seasonality follows the facility's wall clock.
    public var timeZone: TimeZone = TimeZone(identifier: "UTC")!
    /// Errors larger than this (fraction of capacity) teach with weight this / |error|
    /// (a Huber-type update): one glitched reading, or a car park closed for an event,
    /// should not swing coefficients that thirty zones share. 0: plain least squares.
    public var robustErrorFraction: Double = 0.03
    /// Probability the prediction interval is meant to hold the reading.
    public var intervalCoverage: Double = 0.8
    /// How fast a zone's error scale follows its latest errors (per error, ~1/rate of
    /// them remembered: about a day of half-hourly readings).
    public var intervalScaleRate: Double = 0.05
    /// Step of the online quantile tracking of the interval's ends, in error scales per
    /// error: each miss below the lower end moves it down by (1 − q)·rate, each reading
    /// above it up by q·rate, which settles where a share q of errors lies below.
    public var intervalQuantileRate: Double = 0.01

    public init() {}

    /// Every key optional: a candidate configuration (`parklink forecast evaluate
    /// --model-config`) names only what it changes, and a state saved before a key existed
    /// still loads.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = FacilityForecasterConfig()
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.binMinutes, &d.binMinutes)
        try read(.profileAlpha, &d.profileAlpha)
        try read(.weeklyWeight, &d.weeklyWeight)
        try read(.minimumBinVisits, &d.minimumBinVisits)
        try read(.learnedHorizonsMinutes, &d.learnedHorizonsMinutes)
        try read(.pairToleranceMinutes, &d.pairToleranceMinutes)
        try read(.sharedForgetting, &d.sharedForgetting)
        try read(.zoneForgetting, &d.zoneForgetting)
        try read(.initialVariance, &d.initialVariance)
        try read(.zoneVariance, &d.zoneVariance)
        try read(.minimumPairs, &d.minimumPairs)
        try read(.lag1Minutes, &d.lag1Minutes)
        try read(.lag2Minutes, &d.lag2Minutes)
        try read(.originSlotMinutes, &d.originSlotMinutes)
        try read(.historySlotMinutes, &d.historySlotMinutes)
        try read(.timeZone, &d.timeZone)
        try read(.robustErrorFraction, &d.robustErrorFraction)
        try read(.intervalCoverage, &d.intervalCoverage)
        try read(.intervalScaleRate, &d.intervalScaleRate)
        try read(.intervalQuantileRate, &d.intervalQuantileRate)
        self = d
    }

    var longestLearnedMinutes: Double { learnedHorizonsMinutes.max() ?? 60 }
}
