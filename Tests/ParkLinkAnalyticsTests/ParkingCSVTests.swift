import Testing
@testable import ParkLinkAnalytics
import ParkLinkProtocol

@Suite("Car-park CSV reading and cleaning")
struct ParkingCSVTests {
    let header = "SystemCodeNumber,Capacity,Occupancy,LastUpdated\n"

    @Test("parses rows, CRLF endings and a missing final newline")
    func parses() throws {
        let rows = try ParkingCSV.parse(header + "A,100,61,2016-10-04 07:59:42\r\nB B,5,0,2016-12-19 16:30:35")
        #expect(rows.count == 2)
        #expect(rows[0] == ParkingRow(park: "A", capacity: 100, occupancy: 61,
                                      time: CivilTime.seconds(parsing: Array("2016-10-04 07:59:42".utf8))!))
        #expect(rows[1].park == "B B")
    }

    @Test("a malformed line is an error naming the line", arguments: [
        "A,100,61\n", "A,100,x,2016-10-04 07:59:42\n", "A,100,61,2016-13-04 07:59:42\n",
        "A,100,61,2016-10-04 07:59\n", ",100,61,2016-10-04 07:59:42\n",
    ])
    func rejects(line: String) {
        #expect(throws: ParkingCSVError.self) { try ParkingCSV.parse(header + "A,100,1,2016-10-04 08:00:00\n" + line) }
        do {
            _ = try ParkingCSV.parse(header + "A,100,1,2016-10-04 08:00:00\n" + line)
        } catch let e as ParkingCSVError {
            #expect(e.line == 3)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a file with another header is refused")
    func foreignHeader() {
        #expect(throws: ParkingCSVError.self) { try ParkingCSV.parse("id,cap,occ,time\nA,1,1,2016-10-04 08:00:00\n") }
    }

    @Test("timestamps round-trip and count days across month and leap-year ends")
    func civilTime() {
        let t = CivilTime.seconds(parsing: Array("2016-02-29 23:59:59".utf8))!
        #expect(CivilTime.format(seconds: t) == "2016-02-29 23:59:59")
        #expect(CivilTime.seconds(parsing: Array("2016-03-01 00:00:00".utf8))! - t == 1)
        #expect(CivilTime.seconds(parsing: Array("1970-01-01 00:00:00".utf8)) == 0)
        #expect(CivilTime.seconds(parsing: Array("2015-02-29 00:00:00".utf8)) == nil)
    }

    @Test("cleaning drops negative and over-capacity rows, keeps the last of duplicates, sorts by time")
    func cleaning() throws {
        let csv = header + """
            P,100,50,2016-10-04 09:00:00
            P,100,40,2016-10-04 08:30:00
            P,100,101,2016-10-04 09:30:00
            P,100,-1,2016-10-04 10:00:00
            P,100,7,2016-10-04 08:30:00
            Q,10,10,2016-10-04 08:00:00
            Q,10,10,2016-10-04 08:00:00
            """
        let (series, summary) = ParkingDataCleaning.clean(try ParkingCSV.parse(csv))
        #expect(summary == CleaningSummary(rawRows: 7, droppedNonPositiveCapacity: 0, droppedNegativeOccupancy: 1,
                                           droppedOverCapacity: 1, duplicatesRemoved: 2, keptRows: 3, parks: 2))
        #expect(series.map(\.park) == ["P", "Q"])
        #expect(series[0].occupancy == [7, 50]) // 08:30 twice: the later row (7) wins
        #expect(series[0].times == series[0].times.sorted())
        #expect(series[1].occupancy == [10] && series[1].capacity == 10)
    }
}
