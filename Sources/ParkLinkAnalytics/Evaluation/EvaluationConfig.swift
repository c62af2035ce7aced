/// How `ForecastEvaluation` replays a file.
public struct EvaluationConfig: Sendable, Equatable {
    /// Horizons to score, minutes; each in 1...720 so that "one day earlier" stays in the
    /// past of the origin.
    public var horizonsMinutes: [Int] = [30, 60]
    /// A target reading counts when it lies within this of origin + horizon.
    public var toleranceMinutes: Int = 10
    /// The horizon whose target-bearing origins define the split (ParkPulse's 30 min).
    public var splitReferenceHorizonMinutes: Int = 30
    public var trainFraction: Double = 0.70
    public var validationFraction: Double = 0.15
    public var forecastTime: ForecastTime = .targetReading
    /// Which model is replayed: the one the sampler runs (all car parks as zones of one
    /// `FacilityForecaster`), or the earlier per-zone `OccupancyForecaster`, kept for
    /// comparison.
    public var model: Model = .facility
    public var facility = FacilityForecasterConfig()
    public var forecaster = ForecasterConfig()

    public enum Model: String, Sendable, Equatable, CaseIterable {
        /// One `FacilityForecaster` over all car parks, fed in time order.
        case facility
        /// One `OccupancyForecaster` per car park.
        case zone
    }

    public enum ForecastTime: String, Sendable, Equatable, CaseIterable {
        /// Ask the model for the occupancy at the target reading's own timestamp (that
        /// time is the question; its value is never seen). The default: a forecast is for
        /// a moment, and readings wander ±10 min around the nominal horizon.
        case targetReading
        /// Ask for exactly origin + h, as a model that ignores the target time must.
        case nominalHorizon
    }

    public static let allowedHorizons = 1...720

    public init(horizonsMinutes: [Int] = [30, 60]) {
        self.horizonsMinutes = horizonsMinutes
    }
}
