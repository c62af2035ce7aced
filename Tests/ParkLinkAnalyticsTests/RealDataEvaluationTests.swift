import Foundation
import Testing
@testable import ParkLinkAnalytics
import ParkLinkProtocol

/// The published split on the real Birmingham file (shared/data beside the repository,
/// or `PARKLINK_BIRMINGHAM_CSV`). Skipped, visibly, when the file is not there.
enum BirminghamFile {
    static var path: String? {
        if let p = ProcessInfo.processInfo.environment["PARKLINK_BIRMINGHAM_CSV"] { return p }
        let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidate = root.deletingLastPathComponent().appendingPathComponent("shared/data/birmingham-parking.csv").path
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }
}

@Suite("Birmingham evaluation", .enabled(if: BirminghamFile.path != nil, "shared/data/birmingham-parking.csv not found"))
struct RealDataEvaluationTests {
    /// The sampler's model: every car park a zone of one `FacilityForecaster`.
    static let report: EvaluationReport? = run(.facility)
    /// The earlier per-zone `OccupancyForecaster`, for comparison.
    static let perZone: EvaluationReport? = run(.zone)

    static func run(_ model: EvaluationConfig.Model) -> EvaluationReport? {
        guard let path = BirminghamFile.path else { return nil }
        var config = EvaluationConfig(horizonsMinutes: [15, 30, 60])
        config.model = model
        return try? ForecastEvaluation.run(csvPath: path, config: config)
    }

    @Test("cleaning and split reproduce ParkPulse: 35,116 rows, persistence MAE 49.37 on 4,873 pairs")
    func reproducesPublishedSplit() throws {
        let r = try #require(Self.report)
        #expect(r.cleaning.rawRows == 35_717 && r.cleaning.keptRows == 35_116)
        #expect(r.cleaning.droppedOverCapacity == 373 && r.cleaning.duplicatesRemoved == 216)
        #expect(CivilTime.format(seconds: r.split.trainEnd) == "2016-11-27 09:02:19")
        #expect(CivilTime.format(seconds: r.split.validationEnd) == "2016-12-08 12:25:24")
        let h30 = try #require(r.test.first { $0.horizonMinutes == 30 })
        #expect(h30.count == 4_873)
        #expect(abs(h30.persistence.mae! - 49.3686) < 1e-4)
        #expect(abs(h30.persistence.rmse! - 89.3611) < 1e-4)
    }

    @Test("the model beats persistence and seasonal naive at every horizon")
    func beatsBaselines() throws {
        let r = try #require(Self.report)
        #expect(r.test.map(\.horizonMinutes) == [15, 30, 60])
        for s in r.test {
            #expect(s.model.mae! < s.persistence.mae! && s.model.mae! < s.seasonalNaive.mae!, "\(s.horizonMinutes) min")
            #expect(s.model.rmse! < s.persistence.rmse! && s.model.rmse! < s.seasonalNaive.rmse!, "\(s.horizonMinutes) min")
        }
    }

    @Test("at 30 min the model beats the published CatBoost (MAE 18.78, RMSE 34.66); at 60 it is under a quarter of persistence")
    func beatsPublished() throws {
        let r = try #require(Self.report)
        let h30 = try #require(r.test.first { $0.horizonMinutes == 30 })
        #expect(h30.model.mae! < 18.78 && h30.model.rmse! < 34.66)
        let h60 = try #require(r.test.first { $0.horizonMinutes == 60 })
        #expect(h60.model.mae! < 0.25 * h60.persistence.mae!)
    }

    /// Recorded when the model was fixed (32 candidates compared on validation, the chosen
    /// one scored once on test): validation 12.56 / 19.90 cars MAE at 30 / 60 min, test
    /// 8.43 / 12.83 / 21.88 at 15 / 30 / 60. The target at 30 min (≤ 13) is met;
    /// the one at 60 min (≤ 20) is NOT (21.88). These bounds stop the model from silently
    /// getting worse.
    @Test("scores stay where they were recorded")
    func recordedScores() throws {
        let r = try #require(Self.report)
        let valid = Dictionary(uniqueKeysWithValues: r.validation.map { ($0.horizonMinutes, $0.model) })
        #expect(valid[30]!.mae! < 12.6 && valid[60]!.mae! < 19.95)
        let test = Dictionary(uniqueKeysWithValues: r.test.map { ($0.horizonMinutes, $0.model) })
        #expect(test[15]!.mae! < 8.5)
        #expect(test[30]!.mae! < 12.9 && test[30]!.rmse! < 20.5)
        #expect(test[60]!.mae! < 21.9 && test[60]!.rmse! < 35.3)
    }

    @Test("the 80% intervals hold 75–85% of the test readings at 30 and 60 min, at about 43 and 63 cars wide")
    func intervalCoverage() throws {
        let r = try #require(Self.report)
        for s in r.test where s.horizonMinutes >= 30 {
            let coverage = try #require(s.interval.coverage)
            #expect((0.75...0.85).contains(coverage), "\(s.horizonMinutes) min: \(coverage)")
            #expect(s.interval.count == s.count)
        }
        let width = Dictionary(uniqueKeysWithValues: r.test.map { ($0.horizonMinutes, $0.interval.meanWidth!) })
        #expect(abs(width[30]! - 42.51) < 0.01 && abs(width[60]! - 63.48) < 0.01)
        // The per-zone model has no interval.
        #expect(try #require(Self.perZone).test.allSatisfy { $0.interval.coverage == nil })
    }

    @Test("weekday and weekend parts add up to the whole; weekends are a third of the test pairs")
    func byDayType() throws {
        let r = try #require(Self.report)
        for s in r.test {
            #expect(s.weekday.model.count + s.weekend.model.count == s.count)
        }
        let h30 = try #require(r.test.first { $0.horizonMinutes == 30 })
        #expect(h30.weekend.model.count == 1_599 && h30.weekday.model.count == 3_274)
        #expect(h30.weekday.model.mae! < 12.3 && h30.weekend.model.mae! < 14.0)
    }

    /// Replays the file through exactly the calls the sampler makes each cycle: one
    /// `observe(_:at:)` with every zone's reading of that moment, then
    /// `forecast(zone:horizonMinutes:from:)` (and `prediction` for the interval), and
    /// scores the test pairs itself. It must find the evaluation's figures.
    @Test("the sampler's code path gives the evaluation's figures")
    func samplerCodePath() throws {
        let r = try #require(Self.report), path = try #require(BirminghamFile.path)
        let (series, _) = ParkingDataCleaning.clean(try ParkingCSV.read(path: path))
        var f = FacilityForecaster(capacities: Dictionary(uniqueKeysWithValues: series.map { ($0.park, Double($0.capacity)) }))
        var byTime: [Int64: [(park: Int, index: Int)]] = [:]
        for (p, s) in series.enumerated() {
            for i in s.times.indices { byTime[s.times[i], default: []].append((p, i)) }
        }
        var errors: [Int: (sum: Double, n: Int, covered: Int)] = [30: (0, 0, 0), 60: (0, 0, 0)]
        for time in byTime.keys.sorted() {
            let readings = byTime[time]!
            var cycle: [String: Double] = [:]
            for (p, i) in readings { cycle[series[p].park] = series[p].occupancy[i] }
            f.observe(cycle, at: Double(time))
            for (p, i) in readings {
                let s = series[p]
                for h in [30, 60] {
                    guard let j = TargetMatching.target(in: s.times, origin: i, horizon: Int64(h) * 60, tolerance: 600),
                          r.split.part(origin: s.times[i], target: s.times[j]) == .test
                    else { continue }
                    let minutes = Double(s.times[j] - s.times[i]) / 60
                    let forecast = try #require(f.forecast(zone: s.park, horizonMinutes: minutes, from: Double(time)))
                    let interval = try #require(f.prediction(zone: s.park, atEpochSeconds: Double(s.times[j])))
                    var e = errors[h]!
                    e.sum += abs(forecast - s.occupancy[j])
                    e.n += 1
                    if interval.covers(s.occupancy[j]) { e.covered += 1 }
                    errors[h] = e
                }
            }
        }
        for s in r.test where s.horizonMinutes != 15 {
            let e = errors[s.horizonMinutes]!
            #expect(e.n == s.count)
            #expect(abs(e.sum / Double(e.n) - s.model.mae!) < 1e-9, "\(s.horizonMinutes) min")
            #expect(abs(Double(e.covered) / Double(e.n) - s.interval.coverage!) < 1e-12)
        }
    }

    @Test("the facility model improves on the per-zone one at every horizon; the per-zone figures are unchanged")
    func improvesOnPerZone() throws {
        let r = try #require(Self.report), old = try #require(Self.perZone)
        for (new, before) in zip(r.test, old.test) {
            #expect(new.horizonMinutes == before.horizonMinutes && new.count == before.count)
            #expect(new.model.mae! < before.model.mae! && new.model.rmse! < before.model.rmse!, "\(new.horizonMinutes) min")
        }
        let old30 = try #require(old.test.first { $0.horizonMinutes == 30 })
        #expect(abs(old30.model.mae! - 15.1622) < 1e-4)
    }
}
