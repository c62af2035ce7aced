import ParkLinkProtocol
import Testing
@testable import ParkLinkAnalytics

/// The live rules: ZONE_FULL, SENSOR_FLAPPING, the LED colour of a bay, and the window
/// that counts bay changes.
@Suite("Live rules: zone full, flapping bays, LED colours")
struct LiveRulesTests {
    let rules = AlertRules()

    @Test("ZONE_FULL (info) exactly when every space is taken; a zone of capacity 0 never is")
    func zoneFull() {
        #expect(rules.conditions(forZone: "A", occupied: 47, capacity: 48).isEmpty)
        let full = rules.conditions(forZone: "A", occupied: 48, capacity: 48)
        #expect(full.map(\.type) == [.zoneFull])
        #expect(full.first?.severity == .info)
        #expect(full.first?.subject == .zone("A"))
        #expect(full.first?.message == "zone full: 48/48 occupied")
        // Overrides can push the count past the capacity: still full.
        #expect(rules.conditions(forZone: "A", occupied: 50, capacity: 48).map(\.type) == [.zoneFull])
        #expect(rules.conditions(forZone: "A", occupied: 0, capacity: 0).isEmpty)
    }

    @Test("SENSOR_FLAPPING (warning) when a bay changes more than N times a minute; N configurable")
    func flapping() {
        #expect(rules.flappingChangesPerMinute == 6)
        #expect(rules.conditions(forBay: "GW", sensor: 3, changesLastMinute: 6).isEmpty, "N itself is not more than N")
        let c = rules.conditions(forBay: "GW", sensor: 3, changesLastMinute: 7)
        #expect(c.map(\.type) == [.sensorFlapping])
        #expect(c.first?.severity == .warning)
        #expect(c.first?.subject == .sensor(gateway: "GW", sensor: 3))
        var strict = AlertRules()
        strict.flappingChangesPerMinute = 2
        #expect(strict.conditions(forBay: "GW", sensor: 3, changesLastMinute: 3).map(\.type) == [.sensorFlapping])
    }

    @Test("the new types are stored by their documented names")
    func names() {
        #expect(AlertType.zoneFull.rawValue == "ZONE_FULL" && AlertType.zoneFull.severity == .info)
        #expect(AlertType.sensorFlapping.rawValue == "SENSOR_FLAPPING" && AlertType.sensorFlapping.severity == .warning)
    }

    @Test("LED colour: override BLUE, offline or unhealthy AMBER, else RED occupied and GREEN free; nothing known, no command")
    func colours() {
        #expect(BayLight.color(occupied: true, overridden: false, offline: false, unhealthy: false) == .red)
        #expect(BayLight.color(occupied: false, overridden: false, offline: false, unhealthy: false) == .green)
        #expect(BayLight.color(occupied: true, overridden: false, offline: true, unhealthy: false) == .amber)
        #expect(BayLight.color(occupied: false, overridden: false, offline: false, unhealthy: true) == .amber)
        #expect(BayLight.color(occupied: false, overridden: true, offline: true, unhealthy: true) == .blue, "the override wins")
        #expect(BayLight.color(occupied: nil, overridden: true, offline: false, unhealthy: false) == .blue)
        #expect(BayLight.color(occupied: nil, overridden: false, offline: false, unhealthy: false) == nil)
    }

    @Test("the change window counts each bay's changes within the last minute and forgets older ones")
    func window() {
        var w = BayChangeWindow(windowMs: 60_000, cap: 5)
        let a = SensorKey(gatewayId: "GW", sensor: 1), b = SensorKey(gatewayId: "GW", sensor: 2)
        for t in stride(from: Int64(0), to: 10_000, by: 1_000) { w.record(a, atMs: t) }
        w.record(b, atMs: 30_000)
        #expect(w.counts(nowMs: 40_000) == [a: 5, b: 1], "a bay past the cap reports the cap")
        #expect(w.counts(nowMs: 65_000) == [a: 4, b: 1], "the change at 5 s is a minute old at 65 s, and older ones went before it")
        #expect(w.counts(nowMs: 89_999) == [b: 1])
        #expect(w.counts(nowMs: 90_000).isEmpty)
        #expect(w.trackedBays == 0, "nothing kept once the window is empty")
    }
}
