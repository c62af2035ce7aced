import Foundation

/// Hyper-parameters of `OccupancyForecaster`.
///
/// The defaults (and the feature set) were chosen once on the validation part (the 15%
/// after the first 70%) of the Birmingham car-park data, never on the test part; see
/// `ForecastEvaluation`. Across what was tried (profile rate 0.05–0.2, weekly weight
/// 0.5–1.0, forgetting 0.99–0.998, with and without the 60-min momentum pair),
/// validation MAE at 30 min stayed between 14.9 and 16.5 cars: no knife edge.
public struct ForecasterConfig: Codable, Sendable, Equatable {
    /// Width of one seasonal bin. Car parks report about every 30 minutes, and a bin
    /// this wide still resolves the morning ramp once values are interpolated.
    public var binMinutes: Double = 30
    /// How fast a seasonal bin forgets: the weight of the newest day's visit once a bin
    /// has been seen `1/alpha` times (a plain running mean before that, so a new
    /// appliance is useful after its first week instead of after months).
    public var profileAlpha: Double = 0.2
    /// Weight of the time-of-week profile against the time-of-day profile. The weekly
    /// one knows Saturdays from Mondays but has seen each bin seven times fewer.
    public var weeklyWeight: Double = 0.7
    /// A bin is trusted once it holds this many visits; before that the forecaster
    /// falls back to the daily profile, then to persistence.
    public var minimumBinVisits: Double = 1.5
    /// Horizons the correction is learned for. A forecast for another horizon
    /// interpolates between the two nearest that have learned enough.
    public var learnedHorizonsMinutes: [Double] = [15, 30, 60, 120]
    /// A target reading counts for a horizon when it lies this close to origin + horizon
    /// (the evaluation's ±10 min). Shrinks to half the typical sample gap when samples are
    /// denser, so a live feed every few seconds learns pairs that are really `h` apart.
    public var pairToleranceMinutes: Double = 10
    /// Exponential forgetting of the correction per 30 minutes of feed: 0.995 keeps
    /// roughly the last four weeks of half-hourly pairs.
    public var forgetting: Double = 0.995
    /// Prior variance of the correction weights: how far the first pairs may pull them
    /// from plain seasonal persistence.
    public var initialVariance: Double = 1.0
    /// A learned horizon is used once it has seen this many pairs; before that the
    /// prior (persistence plus the seasonal change) is used.
    public var minimumPairs: Int = 20
    /// The previous readings the momentum features look at: the newest one at least
    /// `lo` and at most `hi` minutes old.
    public var lag1Minutes: ClosedRange<Double> = 20...45
    public var lag2Minutes: ClosedRange<Double> = 50...75
    /// One origin per slot is kept for learning: a feed every few seconds then costs the
    /// same memory and learning steps as one every few minutes.
    public var originSlotMinutes: Double = 5
    /// Seasonality follows the car park's wall clock, not UTC.
    public var timeZone: TimeZone = TimeZone(identifier: "UTC")!

    public init() {}

    /// The longest horizon with a learned correction; beyond it plus the tolerance the
    /// forecast is the seasonal profile alone.
    var longestLearnedMinutes: Double { learnedHorizonsMinutes.max() ?? 60 }
}
