import Testing
@testable import ParkLinkAnalytics

@Suite("Health score")
struct HealthScoreTests {
    let rules = HealthRules()
    let now: Int64 = 1_700_000_000_000

    private func score(ageSeconds: Double? = 0, voltage: Double? = 230, power: Double? = 100, alerts: Int = 0) -> HealthScore {
        rules.score(lastSeenMs: ageSeconds.map { now - Int64($0 * 1_000) }, voltageMean: voltage,
                    powerMean: power, openUnacknowledgedAlerts: alerts, nowMs: now)
    }

    @Test("a healthy, fresh, metered sensor scores 100")
    func perfect() {
        #expect(score().total == 100)
    }

    @Test("recency: full to 2 min, linear to 0 at 60 min", arguments: [
        (0, 100), (120, 100), (121, 100 * 3_479 / 3_480), (1_860, 50), (3_599, 100 / 3_480), (3_600, 0), (86_400, 0),
    ] as [(Double, Double)])
    func recency(age: Double, expected: Double) {
        #expect(abs(score(ageSeconds: age).recency - expected) < 1e-9)
    }

    @Test("recency weighs 40%: at 60 min the total drops to 60")
    func recencyWeight() {
        #expect(score(ageSeconds: 3_600).total == 60)
        #expect(abs(score(ageSeconds: 1_860).total - 80) < 1e-9)
    }

    @Test("never seen scores 0 for recency; a future time counts as just seen")
    func recencyEdges() {
        #expect(score(ageSeconds: nil).recency == 0)
        #expect(score(ageSeconds: -30).recency == 100)
    }

    @Test("voltage bands include their edges", arguments: [
        (200, 100), (250, 100), (230, 100), (199.9, 60), (150, 60), (250.1, 60), (300, 60),
        (149.9, 20), (300.1, 20), (0, 20),
    ] as [(Double, Double)])
    func voltage(mean: Double, expected: Double) {
        #expect(score(voltage: mean).voltage == expected)
    }

    @Test("power bands include their upper edges", arguments: [
        (0, 100), (1_500, 100), (1_500.1, 50), (2_250, 50), (2_250.1, 10), (10_000, 10),
    ] as [(Double, Double)])
    func power(mean: Double, expected: Double) {
        #expect(score(power: mean).power == expected)
    }

    @Test("open unacknowledged alerts: none 100, up to 2 60, more 20", arguments: [
        (0, 100), (1, 60), (2, 60), (3, 20), (10, 20),
    ] as [(Int, Double)])
    func alerts(count: Int, expected: Double) {
        #expect(score(alerts: count).alerts == expected)
    }

    @Test("a sensor without metering gets full voltage and power marks")
    func unmetered() {
        let s = score(voltage: nil, power: nil)
        #expect(s.voltage == 100 && s.power == 100 && s.total == 100)
    }

    @Test("components are weighted 40/20/20/20")
    func weighting() {
        // recency 50, voltage 60, power 10, alerts 20 → 20 + 12 + 2 + 4 = 38
        let s = score(ageSeconds: 1_860, voltage: 160, power: 3_000, alerts: 5)
        #expect(abs(s.total - 38) < 1e-9)
    }

    @Test("thresholds come from the rules")
    func configurable() {
        var custom = HealthRules()
        custom.freshSeconds = 10
        custom.staleSeconds = 20
        custom.voltageGood = 110...120
        let s = custom.score(lastSeenMs: now - 15_000, voltageMean: 115, powerMean: nil,
                             openUnacknowledgedAlerts: 0, nowMs: now)
        #expect(s.recency == 50)
        #expect(s.voltage == 100)
    }

    @Test("scoring from SensorStats uses the 1-hour means")
    func fromStats() {
        var stats = SensorStats()
        stats.add(voltage: 180, powerWatts: 2_000, atMs: now - 30 * 60_000)
        stats.add(voltage: 180, powerWatts: 2_000, atMs: now - 1_000)
        let s = rules.score(stats, openUnacknowledgedAlerts: 1, nowMs: now)
        #expect(s.recency == 100 && s.voltage == 60 && s.power == 50 && s.alerts == 60)
    }
}
