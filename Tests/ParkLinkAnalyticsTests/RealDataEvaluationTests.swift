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

    /// Recorded when the model was fixed (chosen on validation, test scored once):
    /// validation 12.79 / test 13.35 cars MAE at 30 min, test 8.58 at 15 and 22.60 at 60.
    /// The target, MAE ≤ 13 at 30 min on the test part, is NOT met (13.35); these
    /// bounds only stop the model from silently getting worse.
    @Test("scores stay where they were recorded")
    func recordedScores() throws {
        let r = try #require(Self.report)
        let valid30 = try #require(r.validation.first { $0.horizonMinutes == 30 })
        #expect(valid30.model.mae! < 12.9)
        let test = Dictionary(uniqueKeysWithValues: r.test.map { ($0.horizonMinutes, $0.model) })
        #expect(test[15]!.mae! < 8.8)
        #expect(test[30]!.mae! < 13.45 && test[30]!.rmse! < 22)
        #expect(test[60]!.mae! < 22.8)
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
