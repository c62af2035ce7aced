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
            row(["horizon", "part", "n", "model MAE", "RMSE", "persist MAE", "RMSE", "seasonal MAE", "RMSE", "fallback"]),
        ]
        for (part, scores) in [("test", test), ("valid", validation)] {
            for s in scores {
                lines.append(row([
                    "\(s.horizonMinutes) min", part, "\(s.count)",
                    fmt(s.model.mae), fmt(s.model.rmse),
                    fmt(s.persistence.mae), fmt(s.persistence.rmse),
                    fmt(s.seasonalNaive.mae), fmt(s.seasonalNaive.rmse),
                    "\(s.seasonalFallbacks)",
                ]))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One line of JSON keyed by horizon (minutes) with the test scores:
    /// `{"30": {"n": …, "model": {"mae": …, "rmse": …}, "persistence": {…},
    /// "seasonal_naive": {…}, "seasonal_naive_fallbacks": …}, …}`.
    public func jsonLine() -> String {
        var object: [String: JSONHorizon] = [:]
        for s in test {
            object["\(s.horizonMinutes)"] = JSONHorizon(
                n: s.count,
                model: JSONError(s.model), persistence: JSONError(s.persistence),
                seasonal_naive: JSONError(s.seasonalNaive), seasonal_naive_fallbacks: s.seasonalFallbacks
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of numbers and optionals cannot fail.
        let data = try! encoder.encode(object)
        return String(decoding: data, as: UTF8.self)
    }

    private func row(_ cells: [String]) -> String {
        let widths = [8, 6, 6, 10, 8, 12, 8, 13, 8, 9]
        return zip(cells, widths).map { cell, width in
            cell.count >= width ? cell : String(repeating: " ", count: width - cell.count) + cell
        }.joined(separator: " ")
    }

    private func fmt(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.2f", value)
    }
}

private struct JSONHorizon: Encodable {
    var n: Int
    var model: JSONError
    var persistence: JSONError
    var seasonal_naive: JSONError
    var seasonal_naive_fallbacks: Int
}

private struct JSONError: Encodable {
    var mae: Double?
    var rmse: Double?
    init(_ s: ErrorStatistics) {
        mae = s.mae.map(rounded)
        rmse = s.rmse.map(rounded)
    }
}

/// Four decimals: the figures are in cars, and more digits are noise that makes diffs.
private func rounded(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
