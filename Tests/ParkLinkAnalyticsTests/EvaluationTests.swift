import Testing
@testable import ParkLinkAnalytics
import ParkLinkProtocol

/// A small file whose baseline errors are worked out by hand, so the evaluation's
/// pairing, split and arithmetic are checked exactly.
///
/// Car park P (capacity 200), two days, readings at 08:00, 08:30 … 16:30 (18 a day).
/// Day 1: 10k at slot k. Day 2: 10k + 5, plus 2 at odd slots.
/// 34 origins have a 30-min target → split indices 22 and 27: validation ends at day-2
/// slot 10 (13:00), so the test origins are day-2 slots 11…16 (targets 12…17).
/// - persistence at 30 min errs by 8 (even target slot) or 12 (odd): MAE 10, RMSE √104;
/// - seasonal naive (no week before, so the day before) errs by 5 or 7: MAE 6, RMSE √37.
/// Dirty rows are added that cleaning must remove; if any survived, n or the MAE changes.
@Suite("Forecast evaluation")
struct EvaluationTests {
    static let day1 = "2016-10-04"
    static let day2 = "2016-10-05"

    static func stamp(_ day: String, slot: Int, plusMinutes: Int = 0) -> String {
        let minutes = 8 * 60 + slot * 30 + plusMinutes
        let h = minutes / 60, m = minutes % 60
        return "\(day) \(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):00"
    }

    static var csv: String {
        var lines = ["SystemCodeNumber,Capacity,Occupancy,LastUpdated"]
        for k in 0..<18 { lines.append("P,200,\(10 * k),\(stamp(day1, slot: k))") }
        for k in 0..<18 {
            if k == 14 { lines.append("P,200,199,\(stamp(day2, slot: 14))") } // superseded below
            lines.append("P,200,\(10 * k + 5 + (k % 2 == 1 ? 2 : 0)),\(stamp(day2, slot: k))")
        }
        lines.append("P,200,\(10 * 13 + 7),\(stamp(day2, slot: 13))")           // exact duplicate
        lines.append("P,200,250,\(stamp(day2, slot: 11, plusMinutes: 5))")      // over capacity
        lines.append("P,200,-3,\(stamp(day2, slot: 13, plusMinutes: 5))")       // negative
        return lines.joined(separator: "\n") + "\n"
    }

    private func report(_ horizons: [Int]) throws -> EvaluationReport {
        try ForecastEvaluation.run(rows: ParkingCSV.parse(Self.csv), config: EvaluationConfig(horizonsMinutes: horizons))
    }

    @Test("the split falls where the ParkPulse rule puts it")
    func split() throws {
        let r = try report([30])
        #expect(CivilTime.format(seconds: r.split.trainEnd) == Self.stamp(Self.day2, slot: 5))
        #expect(CivilTime.format(seconds: r.split.validationEnd) == Self.stamp(Self.day2, slot: 10))
        #expect(r.cleaning.keptRows == 36 && r.cleaning.duplicatesRemoved == 2)
        #expect(r.cleaning.droppedOverCapacity == 1 && r.cleaning.droppedNegativeOccupancy == 1)
    }

    @Test("persistence and seasonal naive errors at 30 min are exactly the hand-worked ones")
    func baselines30() throws {
        let s = try report([30]).test[0]
        #expect(s.count == 6)
        #expect(abs(s.persistence.mae! - 10) < 1e-12)
        #expect(abs(s.persistence.rmse! - 104.0.squareRoot()) < 1e-12)
        #expect(abs(s.seasonalNaive.mae! - 6) < 1e-12)
        #expect(abs(s.seasonalNaive.rmse! - 37.0.squareRoot()) < 1e-12)
        #expect(s.seasonalFallbacks == 0)
    }

    @Test("at 60 min the pairs are slot k → k+2 and persistence errs by 20")
    func baselines60() throws {
        let s = try report([60]).test[0]
        #expect(s.count == 5) // origins 11…15
        #expect(abs(s.persistence.mae! - 20) < 1e-12)
        #expect(abs(s.persistence.rmse! - 20) < 1e-12)
    }

    @Test("every method is scored on the same pairs")
    func samePairs() throws {
        for s in try report([15, 30, 60]).test {
            #expect(s.model.count == s.persistence.count && s.persistence.count == s.seasonalNaive.count)
        }
    }

    @Test("with neither a week nor a day before, seasonal naive falls back to persistence and says so")
    func fallback() throws {
        let oneDay = Self.csv.split(separator: "\n").filter { !$0.contains(Self.day2) }.joined(separator: "\n")
        let s = try ForecastEvaluation.run(rows: ParkingCSV.parse(oneDay), config: EvaluationConfig()).test[0]
        #expect(s.count > 0)
        #expect(s.seasonalFallbacks == s.count)
        #expect(s.seasonalNaive == s.persistence)
    }

    @Test("the JSON line is keyed by horizon and holds n and both errors per method")
    func json() throws {
        let line = try report([30, 60]).jsonLine()
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerializationShim.object(line))
        #expect(Set(object.keys) == ["30", "60"])
        let h30 = try #require(object["30"] as? [String: Any])
        #expect(h30["n"] as? Int == 6)
        let persistence = try #require(h30["persistence"] as? [String: Any])
        #expect(persistence["mae"] as? Double == 10)
        for method in ["model", "persistence", "seasonal_naive"] {
            let m = try #require(h30[method] as? [String: Any])
            #expect(m["mae"] is Double && m["rmse"] is Double)
        }
    }

    @Test("horizons outside 1…720 min are refused")
    func badHorizon() {
        #expect(throws: EvaluationError.horizonOutOfRange(721)) { try report([30, 721]) }
        #expect(throws: EvaluationError.horizonOutOfRange(0)) { try report([0]) }
    }
}
