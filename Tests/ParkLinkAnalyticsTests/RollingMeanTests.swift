import ParkLinkProtocol
import Testing
@testable import ParkLinkAnalytics

@Suite("Rolling one-hour mean")
struct RollingMeanTests {
    let minute: Int64 = 60_000
    let t0: Int64 = 1_700_000_040_000 // a whole minute

    @Test("empty until a value arrives")
    func empty() {
        #expect(RollingMean().mean(nowMs: t0) == nil)
    }

    @Test("means the values of the last 60 one-minute buckets")
    func meanWithinWindow() {
        var m = RollingMean()
        m.add(value: 10, atMs: t0)
        m.add(value: 20, atMs: t0 + 30 * minute)
        m.add(value: 30, atMs: t0 + 30 * minute + 5_000)
        #expect(m.mean(nowMs: t0 + 30 * minute + 10_000) == 20)
    }

    @Test("a value expires once its minute leaves the window, without another add")
    func expiryOnRead() {
        var m = RollingMean()
        m.add(value: 100, atMs: t0)
        m.add(value: 200, atMs: t0 + 10 * minute)
        #expect(m.mean(nowMs: t0 + 59 * minute + 59_999) == 150) // t0's minute still inside
        #expect(m.mean(nowMs: t0 + 60 * minute) == 200)          // t0's minute just left
        #expect(m.mean(nowMs: t0 + 70 * minute) == nil)          // both gone
    }

    @Test("adding after a long silence forgets everything older")
    func expiryOnAdd() {
        var m = RollingMean()
        for i in 0..<60 { m.add(value: 1_000, atMs: t0 + Int64(i) * minute) }
        m.add(value: 5, atMs: t0 + 500 * minute)
        #expect(m.mean(nowMs: t0 + 500 * minute) == 5)
    }

    @Test("advancing partway keeps the newer buckets and drops exactly the older ones")
    func partialAdvance() {
        var m = RollingMean()
        for i in 0..<60 { m.add(value: Double(i), atMs: t0 + Int64(i) * minute) }
        // minutes 0...59 hold 0...59; moving to minute 70 drops minutes 0...10.
        m.add(value: 70, atMs: t0 + 70 * minute)
        let expected = Double(Array(11...59).reduce(0, +) + 70) / 50 // 35.7
        #expect(abs(m.mean(nowMs: t0 + 70 * minute)! - expected) < 1e-9)
    }

    @Test("a late value inside the window counts; one older than the window is refused")
    func lateValues() {
        var m = RollingMean()
        m.add(value: 10, atMs: t0 + 30 * minute)
        let lateAccepted = m.add(value: 20, atMs: t0 + 5 * minute)
        #expect(lateAccepted)
        #expect(m.mean(nowMs: t0 + 30 * minute) == 15)
        let tooOldAccepted = m.add(value: 999, atMs: t0 - 40 * minute)
        #expect(!tooOldAccepted)
        #expect(m.mean(nowMs: t0 + 30 * minute) == 15)
        let nanAccepted = m.add(value: .nan, atMs: t0 + 30 * minute)
        #expect(!nanAccepted)
    }

    @Test("bucket size and count are configurable")
    func configurable() {
        var m = RollingMean(bucketMs: 1_000, bucketCount: 5)
        m.add(value: 1, atMs: 0)
        m.add(value: 3, atMs: 4_999)
        #expect(m.mean(nowMs: 4_999) == 2)
        #expect(m.mean(nowMs: 5_000) == 3)
    }

    @Test("SensorStats keeps last values and hourly means from readings")
    func sensorStats() {
        var stats = SensorStats()
        let metered = Reading(seq: 1, sensor: 3, gatewayMs: 0, occupied: true,
                              voltageDv: 2_300, currentMa: 5_000, powerFactorPct: 100)
        let bare = Reading(seq: 2, sensor: 3, gatewayMs: 0, occupied: false)
        stats.add(reading: metered, atMs: t0)
        stats.add(reading: bare, atMs: t0 + minute)
        #expect(stats.lastSeenMs == t0 + minute)
        #expect(stats.lastVoltage == 230)
        #expect(stats.lastPowerWatts == 1_150)
        #expect(stats.voltageMean(nowMs: t0 + minute) == 230)
        #expect(stats.powerMean(nowMs: t0 + 61 * minute) == nil)
        #expect(SensorStats().voltageMean(nowMs: t0) == nil)
    }
}
