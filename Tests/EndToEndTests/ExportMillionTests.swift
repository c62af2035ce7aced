import Foundation
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// `parklink export` of a million readings: every row arrives, and the process's memory
/// does not grow with the rows (streamed from the server, written through one buffer).
@Suite("Export: a million readings in constant memory", .serialized, .timeLimit(.minutes(5)))
struct ExportMillionTests {
    /// Runs the export as a separate process; its peak resident memory (VmHWM, polled
    /// until it exits: the peak only grows) and the output file's line count.
    func export(_ arguments: [String], output: String) throws -> (status: Int32, peakKiB: Int, lines: Int) {
        let p = try ChildProcess(Repository.parklinkExecutable, arguments + ["--output", output])
        var peak = 0
        var status: Int32?
        while status == nil {
            if let m = ProcessStats.memory(pid: p.pid) { peak = max(peak, m.peakResidentKiB) }
            status = p.poll()
            if status == nil { Thread.sleep(forTimeInterval: 0.01) }
        }
        var lines = 0
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: output))
        defer { try? file.close() }
        while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
            lines += chunk.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
        return (status!, peak, lines)
    }

    @Test("1,000,000 rows as CSV and JSON lines: the table's count, and the same peak memory as 100,000")
    func millionRows() throws {
        let dsn = try TestDatabase.newDatabase("million")
        let c = try MariaDBConnection(dsn: dsn)
        defer { c.close() }
        try Schema.migrate(c)
        // One reading every 10 ms from 2025-03-10 00:00: a million is 2 h 46 min 40 s.
        try c.execute("""
            INSERT INTO readings (gateway_id, boot_id, seq, sensor_id, received_at, gateway_ms, occupied, distance_cm, voltage_dv,
                                  current_ma, power_factor_pct)
            SELECT 'GW1', 7, seq, 1 + seq % 500, '2025-03-10 00:00:00' + INTERVAL seq * 10000 MICROSECOND, seq * 10, seq % 2,
                   IF(seq % 5 = 0, NULL, seq % 400), 2300, 100, 95
            FROM seq_0_to_999999
            """)
        let inTable = Int(try c.queryValue("SELECT COUNT(*) FROM readings WHERE received_at >= '2025-03-10' AND received_at < '2025-03-11'")!)!
        #expect(inTable == 1_000_000)
        let dir = Repository.temporaryDirectory("plmil")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["export", "readings", "--tz", "UTC", "--db", dsn.description, "--state-dir", dir]

        // 100,000 rows: the first 1,000 s.
        let small = try export(common + ["--from", "2025-03-10T00:00:00Z", "--to", "2025-03-10T00:16:40Z"], output: dir + "/small.csv")
        #expect(small.status == 0)
        #expect(small.lines == 100_001, "a header and 100,000 rows")

        let csv = try export(common + ["--from", "2025-03-10", "--to", "2025-03-10"], output: dir + "/all.csv")
        #expect(csv.status == 0)
        #expect(csv.lines == inTable + 1, "a header and every row")
        let json = try export(common + ["--from", "2025-03-10", "--to", "2025-03-10", "--format", "json"], output: dir + "/all.jsonl")
        #expect(json.status == 0)
        #expect(json.lines == inTable, "one object per row")

        // Ten times the rows, no more memory (a little slack for the allocator).
        #expect(csv.peakKiB > 0 && small.peakKiB > 0)
        #expect(csv.peakKiB <= small.peakKiB + 4_096, "CSV: \(csv.peakKiB) KiB for 1M rows vs \(small.peakKiB) KiB for 100k")
        #expect(json.peakKiB <= small.peakKiB + 4_096, "JSON: \(json.peakKiB) KiB for 1M rows vs \(small.peakKiB) KiB for 100k")
        print("export peak RSS: 100k rows CSV \(small.peakKiB) KiB, 1M rows CSV \(csv.peakKiB) KiB, 1M rows JSON \(json.peakKiB) KiB")
    }
}
