import Testing
@testable import ParkLinkAnalytics

@Suite("Alert rules")
struct AlertRulesTests {
    let rules = AlertRules()
    let now: Int64 = 1_700_000_000_000

    private func types(_ s: SensorSnapshot) -> Set<AlertType> {
        Set(rules.conditions(for: s, nowMs: now).map(\.type))
    }

    private func sensor(age: Double? = 1, voltage: Double? = nil, power: Double? = nil, health: Double? = nil) -> SensorSnapshot {
        SensorSnapshot(gateway: "gw1", sensor: 7, lastSeenMs: age.map { now - Int64($0 * 1_000) },
                       lastVoltage: voltage, lastPowerWatts: power, healthScore: health)
    }

    @Test("a fresh, normal sensor has no condition")
    func quiet() {
        #expect(types(sensor(voltage: 230, power: 100, health: 95)).isEmpty)
    }

    @Test("DEVICE_OFFLINE after more than 2 minutes, critical")
    func offline() {
        #expect(types(sensor(age: 120)).isEmpty)
        let c = rules.conditions(for: sensor(age: 121), nowMs: now)
        #expect(c.map(\.type) == [.deviceOffline])
        #expect(c.first?.severity == .critical)
        #expect(c.first?.subject == .sensor(gateway: "gw1", sensor: 7))
        #expect(types(sensor(age: nil)) == [.deviceOffline])
    }

    @Test("HIGH_POWER above 1500 W, warning")
    func highPower() {
        #expect(types(sensor(power: 1_500)).isEmpty)
        let c = rules.conditions(for: sensor(power: 1_500.5), nowMs: now)
        #expect(c.map(\.type) == [.highPower] && c.first?.severity == .warning)
    }

    @Test("INVALID_DATA below 100 V or above 300 V, warning", arguments: [
        (99.9, true), (100, false), (300, false), (300.1, true), (0, true),
    ] as [(Double, Bool)])
    func invalidVoltage(volts: Double, fires: Bool) {
        let c = rules.conditions(for: sensor(voltage: volts), nowMs: now)
        #expect(c.contains { $0.type == .invalidData && $0.severity == .warning } == fires)
    }

    @Test("LOW_HEALTH below 30, info")
    func lowHealth() {
        #expect(types(sensor(health: 30)).isEmpty)
        let c = rules.conditions(for: sensor(health: 29.9), nowMs: now)
        #expect(c.map(\.type) == [.lowHealth] && c.first?.severity == .info)
    }

    @Test("thresholds are configurable")
    func configurable() {
        var r = AlertRules()
        r.offlineAfterSeconds = 10
        r.highPowerWatts = 50
        let c = Set(r.conditions(for: sensor(age: 11, power: 60), nowMs: now).map(\.type))
        #expect(c == [.deviceOffline, .highPower])
    }

    private let healthy = PipelineCounters(linkUp: true, framesLost: 5, ringCount: 10, ringCapacity: 100,
                                           spoolPending: 0, databaseUp: true)

    @Test("a healthy pipeline has no condition")
    func pipelineQuiet() {
        #expect(rules.conditions(for: healthy, previous: healthy).isEmpty)
    }

    @Test("appliance conditions map to their components and severities")
    func pipelineConditions() {
        let bad = PipelineCounters(linkUp: false, framesLost: 9, ringCount: 81, ringCapacity: 100,
                                   spoolPending: 3, databaseUp: false)
        let c = rules.conditions(for: bad, previous: healthy)
        let found = Dictionary(uniqueKeysWithValues: c.map { ($0.type, ($0.subject, $0.severity)) })
        #expect(found[.linkDown]! == (.link, .critical))
        #expect(found[.linkGap]! == (.link, .warning))
        #expect(found[.ringHigh]! == (.ring, .warning))
        #expect(found[.spoolInUse]! == (.spool, .info))
        #expect(found[.databaseDown]! == (.store, .critical))
        #expect(c.count == 5)
    }

    @Test("RING_HIGH only above 80%")
    func ringBoundary() {
        var c = healthy
        c.ringCount = 80
        #expect(rules.conditions(for: c, previous: healthy).isEmpty)
        c.ringCount = 81
        #expect(rules.conditions(for: c, previous: healthy).map(\.type) == [.ringHigh])
    }

    @Test("LINK_GAP only when frames were lost since the last evaluation")
    func linkGap() {
        var later = healthy
        #expect(rules.conditions(for: later, previous: healthy).isEmpty)
        later.framesLost = 6
        #expect(rules.conditions(for: later, previous: healthy).map(\.type) == [.linkGap])
        // First evaluation: any loss so far is new. After a restart (counter went back), too.
        #expect(rules.conditions(for: healthy, previous: nil).map(\.type) == [.linkGap])
        var restarted = healthy
        restarted.framesLost = 2
        #expect(rules.conditions(for: restarted, previous: healthy).map(\.type) == [.linkGap])
    }

    @Test("SESSION_LIMIT (link, warning) only when readings of refused sessions were dropped since the last evaluation")
    func sessionLimit() {
        var later = healthy
        later.sessionLimitDropped = 40
        let c = rules.conditions(for: later, previous: healthy)
        #expect(c.map(\.type) == [.sessionLimit])
        #expect(c.first?.subject == .link && c.first?.severity == .warning)
        #expect(c.first?.message.contains("40 readings") == true)
        #expect(rules.conditions(for: later, previous: later).isEmpty, "no new drop: the condition clears")
        var restarted = healthy
        restarted.sessionLimitDropped = 3
        #expect(rules.conditions(for: restarted, previous: later).map(\.type) == [.sessionLimit], "counter went back: a restart")
    }

    @Test("ZONE_FILLING, info, when the forecast sees the zone full within 30 min or it is full; the threshold is configurable")
    func zoneFilling() {
        #expect(rules.conditions(forZone: "A", minutesToFull: nil).isEmpty)
        #expect(rules.conditions(forZone: "A", minutesToFull: 30.5).isEmpty)
        let soon = rules.conditions(forZone: "A", minutesToFull: 12.2)
        #expect(soon.map(\.type) == [.zoneFilling] && soon.first?.severity == .info)
        #expect(soon.first?.subject == .zone("A") && soon.first?.message == "forecast full in 13 min")
        #expect(rules.conditions(forZone: "A", minutesToFull: 0).first?.message == "zone full")
        var strict = AlertRules()
        strict.zoneFillingMinutes = 10
        #expect(strict.conditions(forZone: "A", minutesToFull: 12.2).isEmpty)
        // A zone's key cannot be taken for a component's, whatever the zone is called.
        #expect(AlertSubject.zone("link").description == "zone:link" && AlertSubject.link.description == "link")
    }
}
