import Foundation
import Testing
@testable import ParkLinkAnalytics

@Suite("Occupancy forecaster")
struct ForecasterTests {
    /// Walk-forward over `samples`: after each one past `warmup`, forecast the sample
    /// about `minutes` later and score it, as `ForecastEvaluation` does.
    private func score(
        _ samples: [(t: Double, occupied: Double)], minutes: Double, warmupDays: Double,
        config: ForecasterConfig = ForecasterConfig()
    ) -> (model: Double, persistence: Double, n: Int) {
        var f = OccupancyForecaster(capacity: 1_000, config: config)
        var model = 0.0, persistence = 0.0, n = 0
        let warmupEnd = SyntheticCarPark.start + warmupDays * 86_400
        var j = 0
        for (i, s) in samples.enumerated() {
            f.observe(occupied: s.occupied, at: s.t)
            guard s.t >= warmupEnd else { continue }
            j = max(j, i + 1)
            let want = s.t + minutes * 60
            while j + 1 < samples.count && abs(samples[j + 1].t - want) <= abs(samples[j].t - want) { j += 1 }
            guard j < samples.count, abs(samples[j].t - want) <= 600 else { continue }
            let actual = samples[j].occupied
            model += abs(f.forecast(atEpochSeconds: samples[j].t)! - actual)
            persistence += abs(s.occupied - actual)
            n += 1
        }
        return (model / Double(n), persistence / Double(n), n)
    }

    @Test("learns a daily and weekly pattern and beats persistence clearly", arguments: [30.0, 60.0])
    func beatsPersistence(minutes: Double) {
        var park = SyntheticCarPark()
        let r = score(park.samples(days: 42), minutes: minutes, warmupDays: 28)
        #expect(r.n > 500)
        #expect(r.model < 0.5 * r.persistence, "model \(r.model) vs persistence \(r.persistence)")
    }

    @Test("tells Sunday from Monday: long-range forecasts follow the weekly profile")
    func weeklySeasonality() {
        var park = SyntheticCarPark()
        var f = OccupancyForecaster(capacity: 1_000)
        // Day 0 is a Monday, so day 40 is a Saturday: stop there at 18:00.
        let saturdayEvening = SyntheticCarPark.start + 40 * 86_400 + 18 * 3_600
        for s in park.samples(days: 41) where s.t <= saturdayEvening {
            f.observe(occupied: s.occupied, at: s.t)
        }
        let sundayNoon = SyntheticCarPark.start + 41 * 86_400 + 12 * 3_600
        let mondayNoon = sundayNoon + 86_400
        let sunday = f.forecast(atEpochSeconds: sundayNoon)!
        let monday = f.forecast(atEpochSeconds: mondayNoon)!
        // True values: Sunday 417, Monday 817. The daily profile (30% of the blend) pulls
        // both toward the all-days mean, so expect most, not all, of the 400-car gap.
        #expect(monday - sunday > 200, "monday \(monday), sunday \(sunday)")
        #expect((300...600).contains(sunday))
        #expect((650...950).contains(monday))
    }

    @Test("forecasts stay within [0, capacity]")
    func clipped() {
        var f = OccupancyForecaster(capacity: 100)
        #expect(f.forecast(horizonMinutes: 30, from: 0) == nil)
        f.observe(occupied: 250, at: 1_000)
        #expect(f.forecast(horizonMinutes: 30, from: 1_000) == 100)
        f.observe(occupied: -5, at: 2_000)
        #expect(f.forecast(horizonMinutes: 30, from: 2_000) == 0)
        #expect(f.lastObservation?.occupied == 0)
    }

    @Test("ignores readings out of order, repeated or not finite")
    func rejectsBadInput() {
        var f = OccupancyForecaster(capacity: 100)
        let first = f.observe(occupied: 10, at: 1_000)
        #expect(first)
        let before = f
        let accepted = [
            f.observe(occupied: 20, at: 1_000),
            f.observe(occupied: 20, at: 999),
            f.observe(occupied: .nan, at: 2_000),
            f.observe(occupied: 20, at: .infinity),
        ]
        #expect(accepted == [false, false, false, false])
        #expect(f == before)
    }

    @Test("a persisted and restored forecaster forecasts the same and goes on learning the same")
    func codableRoundTrip() throws {
        var park = SyntheticCarPark()
        let samples = park.samples(days: 10)
        var f = OccupancyForecaster(capacity: 1_000)
        for s in samples.prefix(400) { f.observe(occupied: s.occupied, at: s.t) }
        var g = try JSONDecoder().decode(OccupancyForecaster.self, from: JSONEncoder().encode(f))
        #expect(g == f)
        for s in samples.dropFirst(400) {
            f.observe(occupied: s.occupied, at: s.t)
            g.observe(occupied: s.occupied, at: s.t)
        }
        let now = samples.last!.t
        for h in [15.0, 30, 60, 240] {
            #expect(f.forecast(horizonMinutes: h, from: now) == g.forecast(horizonMinutes: h, from: now))
        }
    }

    @Test("a dense feed (every minute) learns, and its state does not grow with time")
    func denseFeed() throws {
        var park = SyntheticCarPark()
        let samples = park.samples(days: 21, step: 60, jitter: 5)
        var f = OccupancyForecaster(capacity: 1_000)
        var sizes: [Int] = []
        for (i, s) in samples.enumerated() {
            f.observe(occupied: s.occupied, at: s.t)
            if i == samples.count / 3 || i == samples.count - 1 {
                sizes.append(try JSONEncoder().encode(f).count)
            }
        }
        #expect(f.learnedPairs[30]! > 1_000)
        #expect(Double(sizes[1]) < 1.1 * Double(sizes[0]), "state grew from \(sizes[0]) to \(sizes[1]) bytes")
        let r = score(samples, minutes: 30, warmupDays: 14)
        #expect(r.model < 0.5 * r.persistence, "model \(r.model) vs persistence \(r.persistence)")
    }

    @Test("seasonality follows the configured time zone")
    func timeZone() {
        var utc = OccupancyForecaster(capacity: 1_000)
        var config = ForecasterConfig()
        config.timeZone = TimeZone(identifier: "Etc/GMT-3")! // UTC+3, no DST
        var plus3 = OccupancyForecaster(capacity: 1_000, config: config)
        var park = SyntheticCarPark()
        for s in park.samples(days: 15) {
            utc.observe(occupied: s.occupied, at: s.t)
            plus3.observe(occupied: s.occupied, at: s.t - 3 * 3_600)
        }
        let t = SyntheticCarPark.start + 15 * 86_400
        for h in [30.0, 60, 600] {
            let a = utc.forecast(horizonMinutes: h, from: t)!
            let b = plus3.forecast(horizonMinutes: h, from: t - 3 * 3_600)!
            #expect(abs(a - b) < 1e-6)
        }
    }
}
