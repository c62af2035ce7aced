import Foundation
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkReports
import ParkLinkStore
import Testing

/// `parklink report` on `GarageFixture`, a day whose every figure is worked out by hand,
/// and whose totals are also counted straight from the tables.
@Suite("Report: the seeded garage day")
struct ReportTests {
    let utc = LocalCalendar(timeZone: TimeZone(identifier: "UTC")!, name: "UTC")
    let afterTheDay = GarageFixture.at(12, dayOffset: 3)

    func report(_ f: GarageFixture, zone: String? = nil, nowMs: Int64? = nil, config: ApplianceConfig? = nil) throws -> GarageReport {
        let builder = ReportBuilder(calendar: utc, config: try config ?? GarageFixture.config())
        return try builder.build(f.connection, .init(from: GarageFixture.day, to: GarageFixture.day, zone: zone, nowMs: nowMs ?? afterTheDay))
    }

    func count(_ c: MariaDBConnection, _ sql: String) throws -> Int { Int(try c.queryValue(sql) ?? "-1")! }

    @Test("totals equal a direct count of the events; hours add up to the day")
    func totalsEqualTheTables() throws {
        let f = try GarageFixture()
        let r = try report(f)
        let from = "'2025-03-10 00:00:00'", to = "'2025-03-11 00:00:00'"
        let arrivals = try count(f.connection, "SELECT COUNT(*) FROM occupancy_events WHERE event = 'arrival' AND at >= \(from) AND at < \(to)")
        let departures = try count(f.connection, "SELECT COUNT(*) FROM occupancy_events WHERE event = 'departure' AND at >= \(from) AND at < \(to)")
        #expect(arrivals == 7 && departures == 6, "the fixture as written")
        #expect(r.garage.vehicles_processed == arrivals)
        #expect(r.garage.departures == departures)
        #expect(r.garage_hours.map(\.arrivals).reduce(0, +) == arrivals)
        #expect(r.zones.flatMap(\.hours).map(\.arrivals).reduce(0, +) == arrivals)
        #expect(r.zones.flatMap(\.days).map(\.departures).reduce(0, +) == departures)
        // Stays and revenue against the view, summed by the server.
        let view = try f.connection.query("SELECT COUNT(*), SUM(amount_cents) FROM stays WHERE left_at >= \(from) AND left_at < \(to)")[0]
        #expect(r.garage.stays == Int(view[0]!)!)
        #expect(r.garage.revenue_cents == Int(view[1]!)!)
        #expect(r.garage_hours.count == 24)
    }

    @Test("zone A: arrivals, stays billed per started hour at its rate, efficiency against the dated target")
    func zoneFigures() throws {
        let r = try report(try GarageFixture())
        let a = try #require(r.zones.first { $0.id == "A" })
        #expect(a.configured)
        #expect(a.hourly_rate_cents == 300)
        // 1 h → 1, 1 h + 1 ms → 2, 30 min → 1, 2.5 h → 3, 55 min → 1: 8 hours at 300.
        #expect(a.figures.stays == 5)
        #expect(a.figures.revenue_cents == 2_400)
        // (3600 + 3600.001 + 1800 + 9000 + 3300) s / 5 = 71.0 min.
        #expect(a.figures.average_stay_minutes == 71.0)
        #expect(a.figures.vehicles_processed == 5)
        #expect(a.figures.capacity == 4)
        #expect(a.figures.occupied == 0)
        // The [[target]] for the day (12) wins over daily_target (8): 5 / 12.
        #expect(a.days.map { [$0.date, "\($0.arrivals)", "\($0.departures)", "\($0.daily_target ?? -1)", "\($0.efficiency_percent ?? -1)"] }
            == [["2025-03-10", "5", "5", "12", "41.7"]])
        #expect(a.figures.efficiency_percent == 41.7)
        let h8 = a.hours[8]
        #expect(h8.hour == "08:00" && h8.start == "2025-03-10T08:00:00+00:00")
        // Sensor 2 all hour, sensor 3 half of it: 1.5 bays on average, 2 at once.
        #expect(h8.arrivals == 2 && h8.departures == 1)
        #expect(h8.average_occupied == 1.5)
        #expect(h8.peak_occupied == 2)
        #expect(h8.hourly_target == 0.5 && h8.percent_of_hourly_target == 400.0)
        #expect(h8.arrivals_week_earlier == 1)
        #expect(a.hours[9].arrivals_week_earlier == 1)
        // Sensor 1, there since the evening before, until 00:30.
        #expect(a.hours[0].average_occupied == 0.5 && a.hours[0].peak_occupied == 1 && a.hours[0].departures == 1)
        // The twice-reported arrival is two events, but one car.
        #expect(a.hours[13].arrivals == 2 && a.hours[13].peak_occupied == 1 && a.hours[13].average_occupied == 1.0)
    }

    @Test("sensors in no configured zone count in a zone named after their gateway, at the default rate")
    func gatewayZone() throws {
        let r = try report(try GarageFixture())
        let g = try #require(r.zones.first { $0.id == "GW1" })
        #expect(!g.configured)
        #expect(g.hourly_rate_cents == 200)
        #expect(g.figures.capacity == 2, "sensors 10 and 11, from the sensors table")
        #expect(g.figures.vehicles_processed == 2 && g.figures.stays == 1 && g.figures.revenue_cents == 200)
        #expect(g.figures.occupied == 1, "sensor 11 stays overnight")
        #expect(g.figures.efficiency_percent == nil && g.figures.daily_target_total == nil)
        #expect(g.hours[23].average_occupied == 1.0)
        #expect(r.notes.contains { $0.contains("named after a gateway") })
    }

    @Test("the garage: capacity, occupancy over the day, its own peak, revenue, efficiency of the targeted zones")
    func garageFigures() throws {
        let r = try report(try GarageFixture())
        #expect(r.garage.capacity == 6)
        #expect(r.garage.occupied == 1 && r.garage.available == 5)
        // 7.5 bay-hours over 24 h on 6 bays: 5.2%.
        #expect(r.garage.average_occupied_percent == 5.2)
        // 08:30–08:45: sensors 2, 3 and 10 at once (zone peaks 2 and 1 would not tell).
        #expect(r.garage.peak_occupied == 3 && r.garage_hours[8].peak_occupied == 3)
        #expect(r.garage_hours[8].average_occupied == 2.0)
        #expect(r.garage.stays == 6 && r.garage.revenue_cents == 2_600 && r.garage.unpriced_stays == 0)
        // (21300.001 + 3600) s / 6 = 69.2 min.
        #expect(r.garage.average_stay_minutes == 69.2)
        #expect(r.garage.daily_target_total == 12 && r.garage.efficiency_percent == 41.7)
        #expect(r.garage_days.first?.efficiency_percent == 41.7)
    }

    @Test("sensors with most alerts and lowest health, forecast error per horizon, all within the day")
    func sensorsAndForecasts() throws {
        let r = try report(try GarageFixture())
        #expect(r.sensors_most_alerts.map { "\($0.sensor) \($0.alerts)" } == ["GW1/2 3", "GW1/10 1"])
        #expect(r.sensors_lowest_health.map { "\($0.sensor) \($0.mean_score) \($0.min_score ?? -1)" } == ["GW1/3 50.0 40.0", "GW1/1 90.0 90.0"])
        #expect(r.forecast_error.horizons.map { [Double($0.horizon_minutes), Double($0.forecasts), $0.mae, $0.rmse, $0.bias] } == [
            [15, 2, 0.5, 0.71, 0.5],
            [60, 1, 2, 2, -2],
        ])
    }

    @Test("--zone keeps one zone; a day not over yet has no averages after now")
    func zoneFilterAndNow() throws {
        let f = try GarageFixture()
        let a = try report(f, zone: "A")
        #expect(a.zones.map(\.id) == ["A"])
        #expect(a.garage.capacity == 4 && a.garage.vehicles_processed == 5 && a.garage.revenue_cents == 2_400)
        let noon = try report(f, nowMs: GarageFixture.at(12))
        let zoneA = try #require(noon.zones.first { $0.id == "A" })
        #expect(zoneA.figures.occupied == 1, "sensor 2, 10:00 to 12:30")
        #expect(zoneA.hours[11].average_occupied == 1.0)
        #expect(zoneA.hours[12].average_occupied == nil && zoneA.hours[13].arrivals == 0)
        #expect(noon.notes.contains { $0.contains("not over") })
    }

    @Test("without a config: zones from the data, no targets; every key present, null when empty")
    func withoutConfig() throws {
        let f = try GarageFixture()
        let builder = ReportBuilder(calendar: utc, config: nil)
        let r = try builder.build(f.connection, .init(from: GarageFixture.day, to: GarageFixture.day, zone: nil, nowMs: afterTheDay))
        #expect(r.zones.map(\.id) == ["A", "GW1"])
        #expect(r.zones[0].configured && !r.zones[1].configured)
        #expect(r.zones[0].figures.capacity == 4, "sensors of zone A in the sensors table")
        #expect(r.garage.efficiency_percent == nil)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(ReportText.render(r, format: .json).utf8)) as? [String: Any])
        let garage = try #require(json["garage"] as? [String: Any])
        #expect(garage["efficiency_percent"] is NSNull && garage["daily_target_total"] is NSNull)
        let hours = try #require(json["garage_hours"] as? [[String: Any]])
        #expect(hours[0]["hourly_target"] is NSNull)
        #expect((json["period"] as? [String: Any])?["zone"] is NSNull)
    }

    @Test("CSV: the hours of the garage (zone *) and of each zone, RFC 4180 with a header")
    func csv() throws {
        let r = try report(try GarageFixture())
        let text = ReportText.csv(r)
        let lines = text.components(separatedBy: "\r\n").dropLast()
        #expect(lines.first == "date,hour,start,zone,arrivals,departures,average_occupied,peak_occupied,hourly_target,percent_of_hourly_target,arrivals_week_earlier")
        #expect(lines.count == 1 + 24 * 3)
        #expect(lines.contains("2025-03-10,08:00,2025-03-10T08:00:00+00:00,A,2,1,1.5,2,0.5,400.0,1"))
        #expect(text.hasSuffix("\r\n"))
    }

    @Test("a stay with no recorded rate is counted, not priced, and said")
    func unpriced() throws {
        let f = try GarageFixture()
        try f.connection.execute("DELETE FROM tariffs WHERE zone_id = ''")
        let r = try report(f)
        #expect(r.garage.unpriced_stays == 1 && r.garage.revenue_cents == 2_400)
        #expect(r.zones.first { $0.id == "GW1" }?.figures.revenue_cents == nil)
        #expect(r.notes.contains { $0.contains("1 stays have no rate") })
    }
}
