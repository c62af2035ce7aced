import Foundation
import ParkLinkDaemon
import ParkLinkReports
import ParkLinkStore
import ParkLinkTestSupport
import Testing

/// `parklink config init`: the sample it writes loads with the appliance's own loader.
@Suite("Config template")
struct ConfigTemplateTests {
    @Test("sensor lists: runs become ranges")
    func sensorList() {
        #expect(ConfigTemplate.sensorList([5, 1, 2, 3, 9, 10, 12]) == "1-3, 5, 9-10, 12")
        #expect(ConfigTemplate.sensorList([7]) == "7")
    }

    @Test("from the sensors seen: one zone per gateway, and the file loads with ApplianceConfig")
    func loadsAsWritten() throws {
        let c = try TestDatabase.migratedConnection("cfginit")
        defer { c.close() }
        for s in Array(1...48) + [60, 61] {
            try c.execute("INSERT INTO sensors (gateway_id, sensor_id, updated_at) VALUES ('GW-A', \(s), NOW())")
        }
        // Another gateway using some of the same ids: it cannot share this config.
        for s in [1, 2, 100] { try c.execute("INSERT INTO sensors (gateway_id, sensor_id, updated_at) VALUES ('GW-B', \(s), NOW())") }
        // Last week: 70 arrivals at GW-A, so a target of 10 a day.
        for i in 0..<70 {
            try c.execute("""
                INSERT INTO occupancy_events (gateway_id, boot_id, seq, sensor_id, event, at)
                VALUES ('GW-A', 1, \(i), 1, 'arrival', UTC_TIMESTAMP(3) - INTERVAL \(i) HOUR)
                """)
        }
        let seen = try ConfigTemplate.seen(c, nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        let text = ConfigTemplate.render(seen, gateway: nil, timeZone: "Europe/London", hourlyRateCents: 250, generatedAt: "now")
        let config = try ApplianceConfig.parse(text: text, path: "sample.toml")
        #expect(config.zones.zones.count == 1)
        let zone = try #require(config.zones.zones.first)
        #expect(zone.id == "GW-A" && zone.capacity == 50 && zone.dailyTarget == 10)
        #expect(zone.sensors == Array(1...48) + [60, 61])
        #expect(text.contains("sensors = \"1-48, 60-61\""))
        #expect(config.hourlyRateCents == 250 && config.timeZone == "Europe/London")
        #expect(text.contains("# Gateway GW-B reports sensor ids another gateway above has (1-2)"))
        #expect(text.contains("# [[bay]]") && text.contains("# [[target]]"))
        // The commented examples are right too: uncommented, they load.
        let uncommented = text.replacingOccurrences(of: "# [[bay]]\n# sensor", with: "[[bay]]\nsensor")
            .replacingOccurrences(of: "# name = ", with: "name = ")
            .replacingOccurrences(of: "# [[target]]\n# zone = \"GW-A\"\n# date = \"2025-12-24\"\n# daily_target = 600",
                                  with: "[[target]]\nzone = \"GW-A\"\ndate = \"2025-12-24\"\ndaily_target = 600")
        let full = try ApplianceConfig.parse(text: uncommented, path: "sample.toml")
        #expect(full.zones.bay(of: 1) == "GW-A-disabled-1")
        #expect(full.dailyTarget(zone: "GW-A", date: "2025-12-24") == 600)
        #expect(full.dailyTarget(zone: "GW-A", date: "2025-12-25") == 10)
        // One gateway on its own: GW-B's zone, no clash.
        let b = try ApplianceConfig.parse(text: ConfigTemplate.render(seen, gateway: "GW-B", timeZone: "UTC", hourlyRateCents: 0, generatedAt: "now"))
        #expect(b.zones.zones.map(\.id) == ["GW-B"] && b.zones.zones[0].sensors == [1, 2, 100])
        #expect(b.zones.zones[0].dailyTarget == 9, "no arrivals yet: a placeholder of 3 a bay")
    }

    @Test("[[target]] and a zone's hourly_rate_cents: mistakes name the line and the fix")
    func targetMistakes() throws {
        #expect(throws: ConfigError.self) { try ApplianceConfig.parse(text: "[[target]]\nzone = \"A\"\ndate = \"2025-02-30\"\ndaily_target = 5\n") }
        do {
            _ = try ApplianceConfig.parse(text: "[[target]]\nzone = \"A\"\ndate = \"2025-01-01\"\ndaily = 5\n", path: "p.toml")
            Issue.record("an unknown key must be refused")
        } catch let e as ConfigError {
            #expect(e.line == 4 && e.description.contains("unknown key `daily`") && e.description.contains("daily_target"))
        }
        let c = try ApplianceConfig.parse(text: "[[zone]]\nid = \"A\"\nsensors = \"1-3\"\nhourly_rate_cents = 300\n")
        #expect(c.zones.zones[0].hourlyRateCents == 300)
    }
}
