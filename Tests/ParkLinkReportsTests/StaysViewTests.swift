import Foundation
import ParkLinkStore
import Testing

/// The `stays` view, as a ticketing system would query it (README "Schema contract").
@Suite("The stays view")
struct StaysViewTests {
    @Test("one row per arrival → departure, billed per started hour at the zone's rate, else the default")
    func rows() throws {
        let f = try GarageFixture()
        let rows = try f.connection.query("""
            SELECT gateway_id, sensor_id, zone_id, arrived_at, left_at, duration_seconds, billed_hours, amount_cents
            FROM stays ORDER BY left_at
            """).map { $0.map { $0 ?? "NULL" } }
        #expect(rows == [
            ["GW1", "3", "A", "2025-03-03 08:10:00.000", "2025-03-03 08:20:00.000", "600.0000", "1", "300"],
            ["GW1", "4", "A", "2025-03-03 09:05:00.000", "2025-03-03 10:00:00.000", "3300.0000", "1", "300"],
            ["GW1", "1", "A", "2025-03-09 23:30:00.000", "2025-03-10 00:30:00.000", "3600.0000", "1", "300"],
            ["GW1", "3", "A", "2025-03-10 08:15:00.000", "2025-03-10 08:45:00.000", "1800.0000", "1", "300"],
            ["GW1", "2", "A", "2025-03-10 08:00:00.000", "2025-03-10 09:00:00.001", "3600.0010", "2", "600"],
            ["GW1", "10", "GW1", "2025-03-10 08:30:00.000", "2025-03-10 09:30:00.000", "3600.0000", "1", "200"],
            ["GW1", "2", "A", "2025-03-10 10:00:00.000", "2025-03-10 12:30:00.000", "9000.0000", "3", "900"],
            // The twice-reported arrival: the stay runs from the later report.
            ["GW1", "4", "A", "2025-03-10 13:05:00.000", "2025-03-10 14:00:00.000", "3300.0000", "1", "300"],
        ])
    }

    @Test("the README's example query: revenue by zone for a day")
    func readmeExample() throws {
        let f = try GarageFixture()
        let rows = try f.connection.query("""
            SELECT zone_id, COUNT(*) AS stays, SUM(amount_cents) AS cents
            FROM stays WHERE left_at >= '2025-03-10' AND left_at < '2025-03-11'
            GROUP BY zone_id ORDER BY zone_id
            """).map { $0.map { $0 ?? "NULL" } }
        #expect(rows == [["A", "5", "2400"], ["GW1", "1", "200"]])
    }

    @Test("without any recorded rate the amount is NULL, never a made-up 0")
    func noRate() throws {
        let f = try GarageFixture()
        try f.connection.execute("DELETE FROM tariffs")
        #expect(try f.connection.queryValue("SELECT COUNT(*) FROM stays WHERE amount_cents IS NULL") == "8")
    }
}
