import ParkLinkSampler

/// What `parklink report` says about a period, as `--format json` prints it. Keys are a
/// contract (README "Reports"); a key with no value is `null`, never missing. Local
/// dates and times are in `period.timezone`; `_utc` keys are UTC.
public struct GarageReport: Codable, Sendable, Equatable {
    public struct Period: Codable, Sendable, Equatable {
        /// First and last local date, both included.
        public var from: String
        public var to: String
        public var timezone: String
        public var from_utc: String
        /// The midnight after `to`, UTC (the period is `[from_utc, to_utc)`).
        public var to_utc: String
        /// Up to when the figures run: `to_utc`, or now for a period not yet over.
        public var observed_until_utc: String
        @ExplicitNull public var zone: String?
    }

    /// One hour of one zone (or of the garage).
    public struct Hour: Codable, Sendable, Equatable {
        public var date: String
        /// Local clock time the hour starts, `HH:MM`.
        public var hour: String
        /// Local start with its offset (tells the two 01:00 of a daylight saving change apart).
        public var start: String
        public var arrivals: Int
        public var departures: Int
        /// Time-weighted mean of occupied bays; null for an hour not yet begun.
        @ExplicitNull public var average_occupied: Double?
        public var peak_occupied: Int
        /// The daily target ÷ 24; null without a target.
        @ExplicitNull public var hourly_target: Double?
        /// Arrivals ÷ hourly target × 100.
        @ExplicitNull public var percent_of_hourly_target: Double?
        /// Arrivals in the same local hour seven days earlier.
        public var arrivals_week_earlier: Int
    }

    public struct Day: Codable, Sendable, Equatable {
        public var date: String
        public var arrivals: Int
        public var departures: Int
        /// `[[target]]` for the date, else the zone's `daily_target`; null without one.
        @ExplicitNull public var daily_target: Int?
        /// Arrivals ÷ daily target × 100.
        @ExplicitNull public var efficiency_percent: Double?
    }

    /// Garage figures of a zone, or of the whole garage, over the period.
    public struct Figures: Codable, Sendable, Equatable {
        public var capacity: Int
        /// Bays occupied at `observed_until_utc`, and what that is of the capacity.
        public var occupied: Int
        @ExplicitNull public var occupied_percent: Double?
        public var available: Int
        /// Time-weighted mean occupancy over the period ÷ capacity × 100, and the peak.
        @ExplicitNull public var average_occupied_percent: Double?
        public var peak_occupied: Int
        /// Arrivals in the period.
        public var vehicles_processed: Int
        public var departures: Int
        /// Stays that ended in the period (the `stays` view), their mean length.
        public var stays: Int
        @ExplicitNull public var average_stay_minutes: Double?
        /// Those stays billed per started hour at their zone's rate, integer cents; null
        /// when no rate is recorded (`unpriced_stays` counts them).
        @ExplicitNull public var revenue_cents: Int?
        public var unpriced_stays: Int
        /// Sum of the daily targets (days and zones that have one), and arrivals on those
        /// days ÷ that sum × 100.
        @ExplicitNull public var daily_target_total: Int?
        @ExplicitNull public var efficiency_percent: Double?
    }

    public struct ZoneReport: Codable, Sendable, Equatable {
        public var id: String
        /// A zone of the zone map (the config file, or recorded with the events); false: one
        /// named after a gateway, holding its sensors that are in no configured zone.
        public var configured: Bool
        @ExplicitNull public var hourly_rate_cents: Int?
        public var figures: Figures
        public var days: [Day]
        public var hours: [Hour]
    }

    public struct SensorAlerts: Codable, Sendable, Equatable {
        public var sensor: String
        public var alerts: Int
    }

    public struct SensorHealth: Codable, Sendable, Equatable {
        public var sensor: String
        public var mean_score: Double
        @ExplicitNull public var min_score: Double?
    }

    public struct ForecastError: Codable, Sendable, Equatable {
        public var horizon_minutes: Int
        public var forecasts: Int
        public var mae: Double
        public var rmse: Double
        /// Mean predicted − actual: above 0, forecasts ran high.
        public var bias: Double
    }

    public struct ForecastSection: Codable, Sendable, Equatable {
        /// The period's last day, whose forecasts (by target time) are scored.
        public var date: String
        public var horizons: [ForecastError]
    }

    public var period: Period
    public var garage: Figures
    /// The garage's hours: every zone together (the peak is the garage's own, not a sum).
    public var garage_hours: [Hour]
    public var garage_days: [Day]
    public var zones: [ZoneReport]
    public var sensors_most_alerts: [SensorAlerts]
    public var sensors_lowest_health: [SensorHealth]
    public var forecast_error: ForecastSection
    /// What a reader should know: unpriced stays, zones without targets, a period not over.
    public var notes: [String]
}
