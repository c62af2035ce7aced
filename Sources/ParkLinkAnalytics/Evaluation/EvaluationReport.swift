import Foundation
import ParkLinkProtocol

/// The outcome of one `ForecastEvaluation` run: what was cleaned, where the split fell,
/// and the scores per horizon for the test and validation parts.
public struct EvaluationReport: Sendable, Equatable {
    public let cleaning: CleaningSummary
    public let split: ChronologicalSplit
    public let config: EvaluationConfig
    public let test: [HorizonScores]
    public let validation: [HorizonScores]

    /// A fixed-width table for a terminal.
    public func table() -> String {
        let c = cleaning
        var lines = [
            "rows: \(c.rawRows) read, \(c.keptRows) kept in \(c.parks) car parks "
                + "(dropped \(c.droppedNegativeOccupancy) negative, \(c.droppedOverCapacity) over capacity, "
                + "\(c.droppedNonPositiveCapacity) without capacity; removed \(c.duplicatesRemoved) duplicates)",
            "split: train ≤ \(CivilTime.format(seconds: split.trainEnd)) < validation ≤ \(CivilTime.format(seconds: split.validationEnd)) < test "
                + "(ParkPulse 70/15/15 on timestamps with a \(config.splitReferenceHorizonMinutes)-min target)",
            "target: the reading nearest origin + h within ±\(config.toleranceMinutes) min; model asked for "
                + (config.forecastTime == .targetReading ? "the target reading's time" : "origin + h exactly"),
            "model: " + (config.model == .facility
                ? "FacilityForecaster, every car park a zone, fed in time order"
                : "OccupancyForecaster per car park (earlier model)"),
            "errors in cars",
            "",
            row(["horizon", "part", "n", "model MAE", "RMSE", "persist MAE", "RMSE", "seasonal MAE", "RMSE", "fallback",
                 "cover80", "width"]),
        ]
        for (part, scores) in [("test", test), ("valid", validation)] {
            for s in scores {
                for (days, p) in [("", s.all), (" wkday", s.weekday), (" wkend", s.weekend)] {
                    lines.append(row([
                        "\(s.horizonMinutes) min", part + days, "\(p.model.count)",
                        fmt(p.model.mae), fmt(p.model.rmse),
                        fmt(p.persistence.mae), fmt(p.persistence.rmse),
                        fmt(p.seasonalNaive.mae), fmt(p.seasonalNaive.rmse),
                        "\(p.seasonalFallbacks)", percent(p.interval.coverage), fmt(p.interval.meanWidth),
                    ]))
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One line of JSON keyed by horizon (minutes) with the test scores:
    /// `{"30": {"n": …, "model": {"mae": …, "rmse": …}, "persistence": {…},
    /// "seasonal_naive": {…}, "seasonal_naive_fallbacks": …, "coverage_80": …,
    /// "interval_width": …, "by_day_type": {"weekday": {the same keys}, "weekend": {…}}}, …}`.
    /// `coverage_80` is the share of readings inside the model's 80% interval and
    /// `interval_width` its mean width in cars; both null for a model without intervals
    /// (and every figure null for a day type without pairs).
    public func jsonLine() -> String {
        var object: [String: JSONHorizon] = [:]
        for s in test {
            let all = JSONScores(s.all)
            object["\(s.horizonMinutes)"] = JSONHorizon(
                n: all.n, model: all.model, persistence: all.persistence, seasonal_naive: all.seasonal_naive,
                seasonal_naive_fallbacks: all.seasonal_naive_fallbacks, coverage_80: all.coverage_80,
                interval_width: all.interval_width,
                by_day_type: ["weekday": JSONScores(s.weekday), "weekend": JSONScores(s.weekend)]
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of numbers and optionals cannot fail.
        let data = try! encoder.encode(object)
        return String(decoding: data, as: UTF8.self)
    }

    private func row(_ cells: [String]) -> String {
        let widths = [8, 12, 6, 10, 8, 12, 8, 13, 8, 9, 8, 8]
        return zip(cells, widths).map { cell, width in
            cell.count >= width ? cell : String(repeating: " ", count: width - cell.count) + cell
        }.joined(separator: " ")
    }

    private func fmt(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.2f", value)
    }

    private func percent(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.1f%%", value * 100)
    }
}

private struct JSONHorizon: Encodable {
    var n: Int
    var model: JSONError
    var persistence: JSONError
    var seasonal_naive: JSONError
    var seasonal_naive_fallbacks: Int
    var coverage_80: Double?
    var interval_width: Double?
    var by_day_type: [String: JSONScores]

    /// Nil figures are written as null, never left out.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(n, forKey: .n)
        try c.encode(model, forKey: .model)
        try c.encode(persistence, forKey: .persistence)
        try c.encode(seasonal_naive, forKey: .seasonal_naive)
        try c.encode(seasonal_naive_fallbacks, forKey: .seasonal_naive_fallbacks)
        try c.encode(coverage_80, forKey: .coverage_80)
        try c.encode(interval_width, forKey: .interval_width)
        try c.encode(by_day_type, forKey: .by_day_type)
    }

    enum CodingKeys: CodingKey {
        case n, model, persistence, seasonal_naive, seasonal_naive_fallbacks, coverage_80, interval_width, by_day_type
    }
}

private struct JSONScores: Encodable {
    var n: Int
    var model: JSONError
    var persistence: JSONError
    var seasonal_naive: JSONError
    var seasonal_naive_fallbacks: Int
    var coverage_80: Double?
    var interval_width: Double?

    init(_ p: PairScores) {
        n = p.model.count
        model = JSONError(p.model)
        persistence = JSONError(p.persistence)
        seasonal_naive = JSONError(p.seasonalNaive)
        seasonal_naive_fallbacks = p.seasonalFallbacks
        coverage_80 = p.interval.coverage.map(rounded)
        interval_width = p.interval.meanWidth.map(rounded)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(n, forKey: .n)
        try c.encode(model, forKey: .model)
        try c.encode(persistence, forKey: .persistence)
        try c.encode(seasonal_naive, forKey: .seasonal_naive)
        try c.encode(seasonal_naive_fallbacks, forKey: .seasonal_naive_fallbacks)
        try c.encode(coverage_80, forKey: .coverage_80)
        try c.encode(interval_width, forKey: .interval_width)
    }

    enum CodingKeys: CodingKey {
        case n, model, persistence, seasonal_naive, seasonal_naive_fallbacks, coverage_80, interval_width
    }
}

private struct JSONError: Encodable {
    var mae: Double?
    var rmse: Double?
    init(_ s: ErrorStatistics) {
        mae = s.mae.map(rounded)
        rmse = s.rmse.map(rounded)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mae, forKey: .mae)
        try c.encode(rmse, forKey: .rmse)
    }

    enum CodingKeys: CodingKey { case mae, rmse }
}

/// Four decimals: the figures are in cars, and more digits are noise that makes diffs.
private func rounded(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
