import ParkLinkAnalytics
import Testing

@Suite("Hourly usage")
struct HourlyUsageTests {
    let hour: Int64 = 3_600_000
    var grid: HourGrid { HourGrid(starts: [0, hour, 2 * hour], endMs: 3 * hour) }

    @Test("average occupied bays are time-weighted; the peak is the most at once")
    func weighted() {
        var u = HourlyUsage(grid: grid, observedUntilMs: 3 * hour, zones: ["Z"])
        u.begin(bay: "g/1", zone: "Z", occupied: true)         // there from the start
        u.add(bay: "g/2", zone: "Z", arrival: true, atMs: hour / 4)
        u.add(bay: "g/1", zone: "Z", arrival: false, atMs: hour / 2)
        u.add(bay: "g/2", zone: "Z", arrival: false, atMs: hour + hour / 2)
        let z = u.finish()["Z"]!
        // Hour 0: bay 1 for 1/2, bay 2 for 3/4 → 1.25; two at once from 0:15 to 0:30.
        #expect(z[0].averageOccupied == 1.25 && z[0].peakOccupied == 2)
        #expect(z[0].arrivals == 1 && z[0].departures == 1)
        #expect(z[1].averageOccupied == 0.5 && z[1].peakOccupied == 1)
        #expect(z[2].averageOccupied == 0 && z[2].peakOccupied == 0)
        #expect(u.occupied["Z"] == 0)
    }

    @Test("a repeated arrival or a departure of a free bay changes no count; time after now is not counted")
    func robustAndNow() {
        var u = HourlyUsage(grid: grid, observedUntilMs: hour + hour / 2)
        u.add(bay: "g/1", zone: "Z", arrival: true, atMs: 0)
        u.add(bay: "g/1", zone: "Z", arrival: true, atMs: 10)
        u.add(bay: "g/9", zone: "Z", arrival: false, atMs: 20)
        let z = u.finish()["Z"]!
        #expect(z[0].arrivals == 2 && z[0].departures == 1)
        #expect(z[0].averageOccupied == 1 && z[0].peakOccupied == 1)
        #expect(z[1].averageOccupied == 1 && z[1].observedMs == hour / 2)
        #expect(z[2].averageOccupied == nil, "not begun")
        #expect(u.baysSeen["Z"] == 2)
    }
}
