import ArgumentParser
import Foundation
import ParkLinkAnalytics

/// `parklink forecast …`: occupancy forecasting tools. The logic lives in
/// ParkLinkAnalytics; these commands only parse arguments and print.
struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Occupancy forecasting tools.",
        subcommands: [Evaluate.self]
    )

    /// `parklink forecast evaluate --csv FILE [--horizons 30,60] [--json] [--model facility|zone]`
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "evaluate",
            abstract: "Replay a car-park CSV walk-forward and score the forecaster against persistence and seasonal naive.",
            discussion: """
                The CSV has the Birmingham car-park columns \
                (SystemCodeNumber,Capacity,Occupancy,LastUpdated). Rows with occupancy below 0 or above \
                capacity are dropped and (car park, timestamp) duplicates removed; the data is split \
                70/15/15 by timestamp as Alfarouk/ParkPulse does, and the last 15% is scored (the model's \
                80% interval by its coverage and width, everything also by weekday and weekend). With \
                --json the last line is one JSON object keyed by horizon in minutes. The model is the \
                sampler's FacilityForecaster with every car park as a zone, fed in time order; \
                --model zone replays the earlier per-zone OccupancyForecaster instead.
                """
        )

        @Option(help: "The car-park CSV file.")
        var csv: String

        @Option(help: "Comma-separated horizons in minutes (each 1...720).")
        var horizons: String = "30,60"

        @Flag(help: "Print the test scores as one JSON object on the last line.")
        var json = false

        @Flag(help: "Ask the model for exactly origin + horizon instead of the target reading's time.")
        var nominalHorizon = false

        @Option(help: "Model to replay: facility (the sampler's, default) or zone (the earlier per-zone one).")
        var model: String = EvaluationConfig.Model.facility.rawValue

        @Option(help: ArgumentHelp(
            "A candidate FacilityForecaster configuration to replay instead of the defaults: a JSON object with any of its keys.",
            valueName: "file"))
        var modelConfig: String?

        func validate() throws {
            _ = try parsedHorizons()
            guard EvaluationConfig.Model(rawValue: model) != nil else {
                throw ValidationError("--model must be one of: "
                    + EvaluationConfig.Model.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard FileManager.default.isReadableFile(atPath: csv) else {
                throw ValidationError("cannot read --csv file '\(csv)'")
            }
        }

        func run() throws {
            var config = EvaluationConfig(horizonsMinutes: try parsedHorizons())
            config.forecastTime = nominalHorizon ? .nominalHorizon : .targetReading
            config.model = EvaluationConfig.Model(rawValue: model) ?? .facility
            if let modelConfig {
                do {
                    let data = try Data(contentsOf: URL(fileURLWithPath: modelConfig))
                    config.facility = try JSONDecoder().decode(FacilityForecasterConfig.self, from: data)
                } catch {
                    fail("\(modelConfig): not a model configuration: \(error). Fix: a JSON object with FacilityForecasterConfig's keys")
                }
            }
            let report: EvaluationReport
            do {
                report = try ForecastEvaluation.run(csvPath: csv, config: config)
            } catch let e as ParkingCSVError {
                fail(e.description(file: csv))
            } catch {
                fail("\(csv): \(error)")
            }
            print(report.table())
            if json { print(report.jsonLine()) }
        }

        private func parsedHorizons() throws -> [Int] {
            let parts = horizons.split(separator: ",", omittingEmptySubsequences: false)
            let values = parts.map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, values.allSatisfy({ $0.map(EvaluationConfig.allowedHorizons.contains) ?? false }) else {
                throw ValidationError("--horizons must be comma-separated whole minutes in 1...720, e.g. 15,30,60")
            }
            return values.compactMap { $0 }
        }
    }
}
