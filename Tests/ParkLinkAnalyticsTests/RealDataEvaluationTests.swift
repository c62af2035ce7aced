import Foundation
import Testing
@testable import ParkLinkAnalytics

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
    static let report: EvaluationReport? = {
        guard let path = BirminghamFile.path else { return nil }
        return try? ForecastEvaluation.run(csvPath: path, config: EvaluationConfig(horizonsMinutes: [15, 30, 60]))
    }()

    @Test("cleaning and split reproduce ParkPulse: 35,116 rows, persistence MAE 49.37 on 4,873 pairs")
    func reproducesPublishedSplit() throws {
        let r = try #require(Self.report)
        #expect(r.cleaning.rawRows == 35_717 && r.cleaning.keptRows == 35_116)
        #expect(r.cleaning.droppedOverCapacity == 373 && r.cleaning.duplicatesRemoved == 216)
        #expect(CivilTime.format(r.split.trainEnd) == "2016-11-27 09:02:19")
        #expect(CivilTime.format(r.split.validationEnd) == "2016-12-08 12:25:24")
        let h30 = try #require(r.test.first { $0.horizonMinutes == 30 })
        #expect(h30.count == 4_873)
        #expect(abs(h30.persistence.mae! - 49.3686) < 1e-4)
        #expect(abs(h30.persistence.rmse! - 89.3611) < 1e-4)
    }

    @Test("the model beats persistence and seasonal naive at every horizon")
    func beatsBaselines() throws {
        let r = try #require(Self.report)
        for s in r.test {
            #expect(s.model.mae! < s.persistence.mae! && s.model.mae! < s.seasonalNaive.mae!, "\(s.horizonMinutes) min")
            #expect(s.model.rmse! < s.persistence.rmse! && s.model.rmse! < s.seasonalNaive.rmse!, "\(s.horizonMinutes) min")
        }
    }

    @Test("at 30 min the model beats the published CatBoost (MAE 18.78, RMSE 34.66); at 60 it halves persistence")
    func beatsPublished() throws {
        let r = try #require(Self.report)
        let h30 = try #require(r.test.first { $0.horizonMinutes == 30 })
        #expect(h30.model.mae! < 18.78 && h30.model.rmse! < 34.66)
        let h60 = try #require(r.test.first { $0.horizonMinutes == 60 })
        #expect(h60.model.mae! < 0.5 * h60.persistence.mae!)
    }
}
