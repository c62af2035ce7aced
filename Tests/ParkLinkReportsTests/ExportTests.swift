import Foundation
import ParkLinkProtocol
import ParkLinkReports
@testable import ParkLinkStore
import ParkLinkTestSupport
import Testing

/// `parklink export`: every row of the period, as the table has it, in RFC 4180 CSV or
/// JSON lines.
@Suite("Export")
struct ExportTests {
    /// `n` readings of gateway GW1, one every 10 ms from D 00:00, sensors 1…12; sensors 1–4
    /// in zone A (the `sensors` table).
    static func seedReadings(_ c: MariaDBConnection, _ n: Int) throws {
        try c.execute("""
            INSERT INTO readings (gateway_id, boot_id, seq, sensor_id, received_at, gateway_ms, occupied, distance_cm, voltage_dv,
                                  current_ma, power_factor_pct)
            SELECT 'GW1', 7, seq, 1 + seq % 12, '2025-03-10 00:00:00' + INTERVAL seq * 10000 MICROSECOND, seq * 10, seq % 2,
                   IF(seq % 5 = 0, NULL, seq % 400), 2300, IF(seq % 7 = 0, NULL, 100), 95
            FROM seq_0_to_\(n - 1)
            """)
    }

    /// A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF records.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = ""
        var quoted = false, wasQuoted = false
        var chars = Array(text.unicodeScalars)[...]
        while let ch = chars.popFirst() {
            if quoted {
                if ch == "\"" {
                    if chars.first == "\"" { field.unicodeScalars.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(ch)
                }
            } else if ch == "\"" && field.isEmpty && !wasQuoted {
                quoted = true
                wasQuoted = true
            } else if ch == "," {
                record.append(field); field = ""; wasQuoted = false
            } else if ch == "\r" && chars.first == "\n" {
                chars.removeFirst()
                record.append(field); field = ""; wasQuoted = false
                records.append(record); record = []
            } else {
                field.unicodeScalars.append(ch)
            }
        }
        return records
    }

    func export(_ c: MariaDBConnection, _ kind: ExportRepository.Kind, format: Exporter.Format, from: Int64, to: Int64,
                zone: String? = nil) throws -> (rows: Int, text: String) {
        let path = Repository.temporaryDirectory("plexp") + "/out"
        let sink = try ByteSink.file(path)
        let n = try Exporter.run(c, kind: kind, fromMs: from, toMs: to, zone: zone, format: format, to: sink)
        try sink.finish()
        return (n, try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test("readings: the CSV holds every row of the period, as many as the table counts, field by field")
    func readingsCSV() throws {
        let c = try TestDatabase.migratedConnection("export")
        defer { c.close() }
        try Self.seedReadings(c, 30_000)
        for s in 1...12 { try c.execute("INSERT INTO sensors (gateway_id, sensor_id, zone_id, updated_at) VALUES ('GW1', \(s), \(s <= 4 ? "'A'" : "NULL"), NOW())") }
        // 00:01:00 to 00:03:00: 12,000 readings by the table's own count.
        let from = GarageFixture.at(0, 1), to = GarageFixture.at(0, 3)
        let inTable = Int(try c.queryValue("""
            SELECT COUNT(*) FROM readings WHERE received_at >= '2025-03-10 00:01:00' AND received_at < '2025-03-10 00:03:00'
            """)!)!
        #expect(inTable == 12_000)
        let (n, text) = try export(c, .readings, format: .csv, from: from, to: to)
        let records = Self.parseCSV(text)
        #expect(n == inTable)
        #expect(records.count == inTable + 1, "a header and one record per row")
        #expect(records[0] == ["gateway_id", "boot_id", "seq", "sensor_id", "received_at", "gateway_ms", "occupied", "distance_cm",
                               "voltage_dv", "current_ma", "power_factor_pct"])
        // The first row of the period: seq 6000, at 00:01:00.000; distance NULL (6000 % 5 = 0).
        #expect(records[1] == ["GW1", "7", "6000", "1", "2025-03-10T00:01:00.000Z", "60000", "0", "", "2300", "100", "95"])
        #expect(Set(records.dropFirst().map { $0[2] }).count == inTable, "no row twice")
        // Zone A: sensors 1–4, a third of the rows, as the server counts them.
        let inZone = Int(try c.queryValue("""
            SELECT COUNT(*) FROM readings WHERE received_at >= '2025-03-10 00:01:00' AND received_at < '2025-03-10 00:03:00'
              AND sensor_id BETWEEN 1 AND 4
            """)!)!
        #expect(try export(c, .readings, format: .csv, from: from, to: to, zone: "A").rows == inZone)
        #expect(try export(c, .readings, format: .csv, from: from, to: to, zone: "GW1").rows == inTable - inZone)
    }

    @Test("readings of a short period of a large table stream in key order: no sort, whatever index the table has")
    func readingsStreamWithoutASort() throws {
        let c = try TestDatabase.migratedConnection("exportplan")
        defer { c.close() }
        try Self.seedReadings(c, 30_000)
        // The index by time a database from before migration 8 keeps, or one added by hand.
        for statement in SchemaMigrations.readingsTimeIndex(on: "readings") { try c.execute(statement) }
        try c.execute("ANALYZE TABLE readings")
        // One second of the five minutes: 100 rows. Without the named key the server takes
        // `readings_time` for it and sorts ("Using filesort"), which for a day of a large
        // table is a sort on disk before the first row.
        let statement = try ExportRepository(connection: c).statement(.readings, fromMs: GarageFixture.at(0, 1),
                                                                      toMs: GarageFixture.at(0, 1) + 1_000, zone: nil)
        for plan in try c.query("EXPLAIN \(statement)") {
            let text = plan.map { $0 ?? "" }.joined(separator: " | ")
            #expect(plan[5] == "PRIMARY" && !text.contains("filesort"), "\(text)")
        }
    }

    @Test("JSON lines: one object per row, numbers as numbers, NULL as null")
    func readingsJSON() throws {
        let c = try TestDatabase.migratedConnection("exportj")
        defer { c.close() }
        try Self.seedReadings(c, 1_000)
        let (n, text) = try export(c, .readings, format: .json, from: GarageFixture.dayMs, to: GarageFixture.at(1))
        let lines = text.split(separator: "\n")
        #expect(n == 1_000 && lines.count == 1_000)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["gateway_id"] as? String == "GW1")
        #expect(first["seq"] as? Int == 0)
        #expect(first["distance_cm"] is NSNull)
        #expect(first["received_at"] as? String == "2025-03-10T00:00:00.000Z")
        #expect(first.count == 11)
    }

    @Test("events, alerts and stays: counts equal the tables'; a message with a comma, quotes and a new line survives CSV")
    func otherKinds() throws {
        let f = try GarageFixture()
        let c = f.connection
        let from = GarageFixture.dayMs, to = GarageFixture.at(0, dayOffset: 1)
        let events = Int(try c.queryValue("SELECT COUNT(*) FROM occupancy_events WHERE at >= '2025-03-10' AND at < '2025-03-11'")!)!
        #expect(try export(c, .events, format: .csv, from: from, to: to).rows == events)
        let eventsA = Int(try c.queryValue("SELECT COUNT(*) FROM occupancy_events WHERE at >= '2025-03-10' AND at < '2025-03-11' AND zone_id = 'A'")!)!
        #expect(try export(c, .events, format: .json, from: from, to: to, zone: "A").rows == eventsA)
        let stays = Int(try c.queryValue("SELECT COUNT(*) FROM stays WHERE left_at >= '2025-03-10' AND left_at < '2025-03-11'")!)!
        let staysCSV = try export(c, .stays, format: .csv, from: from, to: to)
        #expect(staysCSV.rows == stays && stays == 6)
        let staysRecords = Self.parseCSV(staysCSV.text)
        #expect(staysRecords[0] == ["gateway_id", "sensor_id", "zone_id", "arrived_at", "left_at", "duration_seconds", "billed_hours", "amount_cents"])
        #expect(staysRecords.dropFirst().compactMap { Int($0[7]) }.reduce(0, +) == 2_600)
        let alerts = try export(c, .alerts, format: .csv, from: from, to: to)
        let records = Self.parseCSV(alerts.text)
        #expect(alerts.rows == 4 && records.count == 5)
        #expect(records[1][7] == "power, \"quoted\"\nand a new line")
        #expect(records[1][10] == "2025-03-10T01:01:00.000Z" && records[1][9] == "", "resolved; never acknowledged: empty")
        let json = try export(c, .alerts, format: .json, from: from, to: to)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.text.split(separator: "\n")[0].utf8)) as? [String: Any])
        #expect(object["message"] as? String == "power, \"quoted\"\nand a new line")
        #expect(object["acknowledged_at"] is NSNull)
    }
}
