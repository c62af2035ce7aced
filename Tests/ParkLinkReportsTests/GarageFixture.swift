import Foundation
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkTestSupport

/// A garage day whose figures are worked out by hand (see the comments): gateway GW1,
/// zone A = sensors 1–4 (capacity 4, rate 300 cents, daily target 8 but 12 on the report
/// day), sensors 10 and 11 in no zone (they count in zone GW1, at the default rate 200).
/// The day D is 2025-03-10, in UTC.
struct GarageFixture {
    static let day = "2025-03-10"
    static let dayMs: Int64 = 1_741_564_800_000  // 2025-03-10T00:00:00Z
    static let hourMs: Int64 = 3_600_000
    static let minuteMs: Int64 = 60_000

    static func at(_ hour: Int, _ minute: Int = 0, _ ms: Int64 = 0, dayOffset: Int64 = 0) -> Int64 {
        dayMs + dayOffset * 86_400_000 + Int64(hour) * hourMs + Int64(minute) * minuteMs + ms
    }

    /// sensor, zone (nil: none), arrival?, time.
    static let events: [(sensor: UInt16, zone: String?, arrival: Bool, atMs: Int64)] = [
        // The week before: zone A arrivals at 08:10 and 09:05.
        (3, "A", true, at(8, 10, dayOffset: -7)), (3, "A", false, at(8, 20, dayOffset: -7)),
        (4, "A", true, at(9, 5, dayOffset: -7)), (4, "A", false, at(10, 0, dayOffset: -7)),
        // Sensor 1 arrived the evening before and leaves at 00:30: a stay of exactly 1 h.
        (1, "A", true, at(23, 30, dayOffset: -1)), (1, "A", false, at(0, 30)),
        // Sensor 2: 08:00 → 09:00:00.001, one millisecond into a second hour: billed 2 h.
        (2, "A", true, at(8, 0)), (2, "A", false, at(9, 0, 1)),
        // Sensor 3: 30 minutes, billed 1 h.
        (3, "A", true, at(8, 15)), (3, "A", false, at(8, 45)),
        // Sensor 2 again: 10:00 → 12:30, billed 3 h.
        (2, "A", true, at(10, 0)), (2, "A", false, at(12, 30)),
        // Sensor 4: an arrival reported twice (one departure lost on the link), then 14:00.
        (4, "A", true, at(13, 0)), (4, "A", true, at(13, 5)), (4, "A", false, at(14, 0)),
        // Sensor 10 (no zone): 08:30 → 09:30, 1 h at the default rate.
        (10, nil, true, at(8, 30)), (10, nil, false, at(9, 30)),
        // Sensor 11 (no zone): arrives at 23:00 and is still there at the end of the day.
        (11, nil, true, at(23, 0)),
        // The day after: outside the report.
        (2, "A", true, at(1, 0, dayOffset: 1)),
    ]

    let connection: MariaDBConnection

    init() throws {
        connection = try TestDatabase.migratedConnection("report")
        let c = connection
        for (i, e) in Self.events.enumerated() {
            try c.execute("""
                INSERT INTO occupancy_events (gateway_id, boot_id, seq, sensor_id, zone_id, event, at) VALUES
                ('GW1', 1, \(i), \(e.sensor), \(e.zone.map { "'\($0)'" } ?? "NULL"), '\(e.arrival ? "arrival" : "departure")',
                 '\(Timestamps.sql(ms: e.atMs))')
                """)
        }
        for s in [1, 2, 3, 4, 10, 11] {
            try c.execute("""
                INSERT INTO sensors (gateway_id, sensor_id, zone_id, occupied, updated_at) VALUES
                ('GW1', \(s), \(s < 10 ? "'A'" : "NULL"), \(s == 11 ? 1 : 0), '\(Timestamps.sql(ms: Self.at(23, 59)))')
                """)
        }
        try c.execute("INSERT INTO tariffs (zone_id, hourly_rate_cents, updated_at) VALUES ('', 200, NOW()), ('A', 300, NOW())")
        // Alerts: GW1/2 three on the day, GW1/10 one, GW1/3 two the day before (not counted).
        let alerts: [(UInt16, Int64)] = [(2, Self.at(1)), (2, Self.at(2)), (2, Self.at(3)), (10, Self.at(4)),
                                         (3, Self.at(1, dayOffset: -1)), (3, Self.at(2, dayOffset: -1))]
        for (i, a) in alerts.enumerated() {
            try c.execute("""
                INSERT INTO alerts (appliance, id, type, severity, subject, gateway_id, sensor_id, message, created_at, resolved_at) VALUES
                ('test', \(i + 1), 'HIGH_POWER', 'warning', 'GW1/\(a.0)', 'GW1', \(a.0), 'power, "quoted"\nand a new line',
                 '\(Timestamps.sql(ms: a.1))', '\(Timestamps.sql(ms: a.1 + 60_000))')
                """)
        }
        // Health: GW1/3 at 40 and 60 (mean 50, min 40), GW1/1 at 90; GW1/2 at 10 the day before.
        for (s, score, at) in [(3, 40, Self.at(6)), (3, 60, Self.at(7)), (1, 90, Self.at(6)), (2, 10, Self.at(6, dayOffset: -1))] {
            try c.execute("""
                INSERT INTO sensor_health_history (gateway_id, sensor_id, at, score, recency, voltage, power, alerts) VALUES
                ('GW1', \(s), '\(Timestamps.sql(ms: at))', \(score), 0, 0, 0, 0)
                """)
        }
        // Forecasts of zone A, by target time: on the day, 15 min (2 vs 1, 3 vs 3) and 60 min
        // (1 vs 3); not counted: one due the day before, one whose actual is unknown.
        let forecasts: [(Int, Double, Double?, Int64)] = [(15, 2, 1, Self.at(9)), (15, 3, 3, Self.at(10)), (60, 1, 3, Self.at(11)),
                                                          (15, 9, 0, Self.at(9, dayOffset: -1)), (60, 5, nil, Self.at(12))]
        for (h, p, a, target) in forecasts {
            try c.execute("""
                INSERT INTO forecasts (zone_id, made_at, horizon_minutes, target_at, predicted, actual) VALUES
                ('A', '\(Timestamps.sql(ms: target - Int64(h) * Self.minuteMs))', \(h), '\(Timestamps.sql(ms: target))', \(p),
                 \(a.map { "\($0)" } ?? "NULL"))
                """)
        }
    }

    /// The appliance's config for this garage: zone A with its rate and targets.
    static func config() throws -> ApplianceConfig {
        try ApplianceConfig.parse(text: """
            [sampler]
            hourly_rate_cents = 200
            timezone = "UTC"

            [[zone]]
            id = "A"
            sensors = "1-4"
            daily_target = 8
            hourly_rate_cents = 300

            [[target]]
            zone = "A"
            date = "2025-03-10"
            daily_target = 12
            """)
    }
}
