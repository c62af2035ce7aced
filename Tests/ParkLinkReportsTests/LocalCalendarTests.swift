import Foundation
import ParkLinkReports
import Testing

@Suite("Local calendar")
struct LocalCalendarTests {
    let london = LocalCalendar(timeZone: TimeZone(identifier: "Europe/London")!)

    @Test("a day is local midnight to midnight; the hours of a clock change are 23 or 25, each with its offset")
    func daylightSaving() throws {
        let spring = try #require(london.startOfDay("2025-03-30"))
        #expect(london.hours(fromMs: spring, toMs: london.nextDay(spring)).count == 23)
        let autumn = try #require(london.startOfDay("2025-10-26"))
        let hours = london.hours(fromMs: autumn, toMs: london.nextDay(autumn))
        #expect(hours.count == 25)
        #expect(london.iso(hours.starts[1]) == "2025-10-26T01:00:00+01:00")
        #expect(london.iso(hours.starts[2]) == "2025-10-26T01:00:00+00:00")
        #expect(london.iso(try #require(london.startOfDay("2025-07-01"))) == "2025-07-01T00:00:00+01:00")
        // A week earlier, the same local times.
        let week = london.weekEarlier(london.hours(fromMs: spring, toMs: london.nextDay(spring)))
        #expect(london.iso(week.starts[0]) == "2025-03-23T00:00:00+00:00")
    }

    @Test("--tz wins over the config file, which wins over TZ; unknown names are refused")
    func resolution() throws {
        #expect(try LocalCalendar.resolve(option: "Asia/Tokyo", config: "Europe/London", environment: ["TZ": "UTC"]).name == "Asia/Tokyo")
        #expect(try LocalCalendar.resolve(option: nil, config: "Europe/London", environment: ["TZ": "UTC"]).name == "Europe/London")
        #expect(try LocalCalendar.resolve(option: nil, config: nil, environment: ["TZ": ":America/New_York"]).name == "America/New_York")
        #expect(throws: LocalCalendar.UnknownTimeZone.self) { try LocalCalendar.resolve(option: "Mars/Olympus", config: nil) }
    }

    @Test("instants: a date is local midnight; a time is local unless it says Z or an offset")
    func instants() {
        #expect(london.instant("2025-07-01") == 1_751_324_400_000)
        #expect(london.instant("2025-07-01T10:00") == 1_751_360_400_000)
        #expect(london.instant("2025-07-01T10:00:00Z") == 1_751_364_000_000)
        #expect(london.instant("2025-07-01 10:00:00+02:00") == 1_751_356_800_000)
        #expect(london.instant("yesterday") == nil && london.startOfDay("2025-02-29") == nil)
    }
}
