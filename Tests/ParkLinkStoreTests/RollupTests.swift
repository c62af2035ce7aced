import Foundation
import ParkLinkProtocol
import Testing

@testable import ParkLinkStore

/// The rollups, recomputed independently by one full scan of the raw tables, as text rows
/// sorted by key. Sums of watts are rounded to 6 places (summation order differs).
func fullScan(_ c: MariaDBConnection, seconds: Int) throws -> (sensors: [[String?]], zones: [[String?]]) {
    let bucket = "FROM_UNIXTIME(FLOOR(UNIX_TIMESTAMP(received_at) / \(seconds)) * \(seconds))"
    let arrivals = """
        SELECT gateway_id, sensor_id, FROM_UNIXTIME(FLOOR(UNIX_TIMESTAMP(at) / \(seconds)) * \(seconds)) AS b, COUNT(*) AS n
        FROM occupancy_events WHERE event = 'arrival' GROUP BY 1, 2, 3
        """
    let perSensor = """
        SELECT r.gateway_id, r.sensor_id, r.b, r.n, r.occ, COALESCE(a.n, 0) AS arr, r.vs, r.vc, r.ps, r.pc
        FROM (SELECT gateway_id, sensor_id, \(bucket) AS b, COUNT(*) AS n, SUM(occupied) AS occ,
                     COALESCE(SUM(voltage_dv), 0) AS vs, COUNT(voltage_dv) AS vc,
                     COALESCE(SUM(voltage_dv * current_ma * power_factor_pct / 1e6), 0) AS ps,
                     COUNT(voltage_dv * current_ma * power_factor_pct) AS pc
              FROM readings GROUP BY 1, 2, 3) r
        LEFT JOIN (\(arrivals)) a ON a.gateway_id = r.gateway_id AND a.sensor_id = r.sensor_id AND a.b = r.b
        """
    let sensors = try c.query("""
        SELECT gateway_id, sensor_id, b, n, occ, arr, vs, vc, ROUND(ps, 6), pc FROM (\(perSensor)) s ORDER BY 1, 2, 3
        """)
    let zones = try c.query("""
        SELECT COALESCE(z.zone_id, s.gateway_id), s.b, COUNT(*), SUM(s.n), SUM(s.occ), SUM(s.arr), SUM(s.vs), SUM(s.vc),
               ROUND(SUM(s.ps), 6), SUM(s.pc)
        FROM (\(perSensor)) s LEFT JOIN sensors z ON z.gateway_id = s.gateway_id AND z.sensor_id = s.sensor_id
        GROUP BY 1, 2 ORDER BY 1, 2
        """)
    return (sensors, zones)
}

func rollups(_ c: MariaDBConnection, _ suffix: String) throws -> (sensors: [[String?]], zones: [[String?]]) {
    let sensors = try c.query("""
        SELECT gateway_id, sensor_id, bucket_start, readings, occupied_readings, arrivals, voltage_dv_sum, voltage_count,
               ROUND(power_w_sum, 6), power_count
        FROM rollup_sensor_\(suffix) ORDER BY 1, 2, 3
        """)
    let zones = try c.query("""
        SELECT zone_id, bucket_start, sensors, readings, occupied_readings, arrivals, voltage_dv_sum, voltage_count,
               ROUND(power_w_sum, 6), power_count
        FROM rollup_zone_\(suffix) ORDER BY 1, 2
        """)
    return (sensors, zones)
}

@Suite("Rollups")
struct RollupTests {
    static let north = SessionKey(gatewayId: "gw-north", bootId: 11)
    static let south = SessionKey(gatewayId: "gw-south", bootId: 4)

    func expectEqualToFullScan(_ c: MariaDBConnection, _ when: String) throws {
        for (suffix, seconds) in [("5m", 300), ("hour", 3_600)] {
            let scan = try fullScan(c, seconds: seconds), rolled = try rollups(c, suffix)
            #expect(rolled.sensors.count == scan.sensors.count, "\(when): sensor \(suffix) rows")
            #expect(rolled.sensors == scan.sensors, "\(when): sensor \(suffix)")
            #expect(rolled.zones == scan.zones, "\(when): zone \(suffix)")
        }
    }

    /// Arrivals as the writer records them: the readings whose `occupied` went to 1.
    func recordArrivals(_ c: MariaDBConnection, _ key: SessionKey, _ rows: [StampedReading]) throws {
        var last: [UInt16: Bool] = [:]
        for r in rows {
            let s = r.reading.sensor
            if r.reading.occupied && last[s] == false {
                try c.execute("""
                    INSERT IGNORE INTO occupancy_events (gateway_id, boot_id, seq, sensor_id, event, at)
                    VALUES ('\(key.gatewayId)', \(key.bootId), \(r.reading.seq), \(s), 'arrival', \(SQLLiteral.time(r.receivedAtMs)))
                    """)
            }
            last[s] = r.reading.occupied
        }
    }

    /// The index by time a database that held readings before migration 8 keeps: its
    /// buckets are read by time instead of by their seq ranges.
    func keepATimeIndex(_ c: MariaDBConnection, _ keep: Bool) throws {
        if keep { for statement in SchemaMigrations.readingsTimeIndex(on: "readings") { try c.execute(statement) } }
        #expect(try ReadingRollups.hasTimeIndex(c) == keep)
    }

    @Test("rollups equal a full scan, late rows and a clock stepped back included; by key, and by time where a time index is kept",
          arguments: [false, true])
    func rollupsEqualAFullScanIncludingLateRows(timeIndex: Bool) throws {
        let c = try TestServer.migratedConnection("rollup\(timeIndex ? "t" : "k")")
        defer { c.close() }
        try keepATimeIndex(c, timeIndex)
        let t0 = simulatedDay0Ms + 9 * 3_600_000 + 123
        // Sensors 0–9 of the north gateway are in zone A; the rest count in their gateway's zone.
        for s in 0..<10 {
            try c.execute("INSERT INTO sensors (gateway_id, sensor_id, zone_id, updated_at) VALUES ('gw-north', \(s), 'A', NOW(3))")
        }
        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 5_000)
        // 100 minutes of readings, one every 1.3 s a gateway, 20 sensors each.
        let north = stampedRows(4_600, startMs: t0, stepMs: 1_300)
        let south = stampedRows(4_600, startMs: t0 + 400, stepMs: 1_300)
        try insertInTransaction(inserter, Array(north[..<3_000]), TestSessions([Self.north]))
        try insertInTransaction(inserter, Array(south[..<3_000]), TestSessions([Self.south]))
        try recordArrivals(c, Self.north, Array(north[..<3_000]))
        let rollups = ReadingRollups(connection: c)
        let first = try rollups.refresh()
        #expect(first.sessions == 2 && first.buckets > 0)
        try expectEqualToFullScan(c, "first refresh")
        #expect(try rollups.refresh() == ReadingRollups.Refresh(ran: true, sessions: 0, buckets: 0))

        // The rest arrives, and so do late rows: a spool drained after an outage brings a
        // new boot's readings stamped an hour ago, into buckets already rolled up.
        try insertInTransaction(inserter, Array(north[3_000...]), TestSessions([Self.north]))
        try insertInTransaction(inserter, Array(south[3_000...]), TestSessions([Self.south]))
        try recordArrivals(c, Self.north, Array(north[2_999...]))
        let lateBoot = SessionKey(gatewayId: "gw-north", bootId: 12)
        let late = stampedRows(500, startMs: t0 + 600_000, stepMs: 2_000)
        try insertInTransaction(inserter, late, TestSessions([lateBoot]))
        try recordArrivals(c, lateBoot, late)
        let second = try rollups.refresh()
        #expect(second.sessions == 3)
        try expectEqualToFullScan(c, "after late rows")

        // The south gateway's clock steps back 20 minutes: its next seqs land in buckets
        // rolled up already, between rows of the same boot.
        let stepped = stampedRows(300, firstSeq: 4_600, startMs: t0 + 400 + 4_600 * 1_300 - 1_200_000, stepMs: 1_300)
        try insertInTransaction(inserter, stepped, TestSessions([Self.south]))
        try recordArrivals(c, Self.south, stepped)
        #expect(try rollups.refresh().sessions == 1)
        try expectEqualToFullScan(c, "after the clock stepped back")
        // Twice is the same as once.
        try c.execute("DELETE FROM rollup_progress")
        try rollups.refresh()
        try expectEqualToFullScan(c, "after a refresh from scratch")
    }

    /// A rolling upgrade of appliances sharing one database: an older parklink rolls rows up
    /// and records no seq ranges (it knows nothing of them). The next refresh of this
    /// version records them, a chunk at a time, and recomputes their buckets, before it
    /// rolls up anything newer.
    @Test func rowsRolledUpByAnOlderParklinkGetTheirRangesAndBuckets() throws {
        let c = try TestServer.migratedConnection("rollolder")
        defer { c.close() }
        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 5_000)
        let rows = stampedRows(3_000, startMs: simulatedDay0Ms + 3_600_000, stepMs: 1_000)
        let rollups = ReadingRollups(connection: c, maxSeqsPerSession: 400)
        try insertInTransaction(inserter, Array(rows[..<1_000]), TestSessions([Self.north]))
        while try rollups.refresh().sessions > 0 {}
        try expectEqualToFullScan(c, "before the older parklink")
        // The older parklink rolls up seqs 1,000–1,999 (its rollup rows are left out here:
        // this version must recompute those buckets itself), and all of another session.
        try insertInTransaction(inserter, Array(rows[1_000..<2_000]), TestSessions([Self.north]))
        try c.execute("UPDATE rollup_progress SET rolled_seq = 1999")
        let other = stampedRows(600, startMs: simulatedDay0Ms + 3_600_500, stepMs: 1_000)
        try insertInTransaction(inserter, other, TestSessions([Self.south]))
        try c.execute("""
            INSERT INTO rollup_progress (gateway_id, boot_id, rolled_from, rolled_seq, updated_at)
            VALUES ('gw-south', 4, 0, 599, UTC_TIMESTAMP(3))
            """)
        try insertInTransaction(inserter, Array(rows[2_000...]), TestSessions([Self.north]))
        var refreshes = 0
        while try rollups.refresh().sessions > 0 { refreshes += 1 }
        // North: 1,000 seqs to range, 400 a refresh; the third refresh ranges the last 200 and
        // rolls up the first 400 new seqs, two more the other 600. South's 600 meanwhile.
        #expect(refreshes == 5)
        try expectEqualToFullScan(c, "after this version caught up")
        let caughtUp = [["0", "2999", "0", "2999"], ["0", "599", "0", "599"]]
        #expect(try c.query("SELECT rolled_from, rolled_seq, ranged_from, ranged_seq FROM rollup_progress ORDER BY gateway_id")
                == caughtUp)

        // An operator sets the progress back to roll seqs 2,500–2,999 up again: they are.
        try c.execute("UPDATE rollup_progress SET rolled_seq = 2500 WHERE gateway_id = 'gw-north'")
        try c.execute("DELETE FROM rollup_sensor_5m WHERE bucket_start >= '2026-03-10 01:40:00'")
        while try rollups.refresh().sessions > 0 {}
        try expectEqualToFullScan(c, "after rolling up seqs again")
        #expect(try c.query("SELECT rolled_from, rolled_seq, ranged_from, ranged_seq FROM rollup_progress ORDER BY gateway_id")
                == caughtUp)
    }

    /// Session status counters of rows a connection's statements read (index and scan steps).
    func rowsRead(_ c: MariaDBConnection) throws -> Int {
        try count(c, """
            SELECT SUM(VARIABLE_VALUE) FROM information_schema.SESSION_STATUS
            WHERE VARIABLE_NAME IN ('HANDLER_READ_FIRST', 'HANDLER_READ_KEY', 'HANDLER_READ_NEXT', 'HANDLER_READ_PREV', 'HANDLER_READ_RND_NEXT')
            """)
    }

    /// A new database's `readings` has no index but its key (migration 8): a new reading's
    /// 5-minute bucket is recomputed from that bucket's rows, found by their seq ranges,
    /// not from the day's partition (the server would read the gateway's whole day), and
    /// the same where a time index is kept.
    @Test(arguments: [false, true])
    func aNewReadingsBucketIsRecomputedFromThatBucketOnly(timeIndex: Bool) throws {
        let c = try simulatedClockConnection("rollrange\(timeIndex ? "t" : "k")")
        defer { c.close() }
        try keepATimeIndex(c, timeIndex)
        // 20,000 readings a fifth of a second apart: 67 minutes, 14 buckets, one day.
        let rows = stampedRows(20_001, startMs: simulatedDay0Ms + 3_600_000, stepMs: 200)
        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 5_000)
        try insertInTransaction(inserter, Array(rows[..<20_000]), TestSessions([Self.north]))
        let rollups = ReadingRollups(connection: c)
        try rollups.refresh()
        // One more reading, in the last bucket (02:05-02:10, which holds 500 rows).
        try insertInTransaction(inserter, [rows[20_000]], TestSessions([Self.north]))
        let before = try rowsRead(c)
        let refresh = try rollups.refresh()
        let read = try rowsRead(c) - before
        #expect(refresh.sessions == 1 && refresh.buckets == 1)
        #expect(read < 5_000, "read \(read) rows to recompute one bucket of 501 readings (the day has 20,001)")
        try expectEqualToFullScan(c, "after one more reading")
    }

    @Test(arguments: [false, true])
    func aFirstRefreshOverABigTableIsSpreadOverCycles(timeIndex: Bool) throws {
        let c = try TestServer.migratedConnection("rollbig\(timeIndex ? "t" : "k")")
        defer { c.close() }
        try keepATimeIndex(c, timeIndex)
        let rows = stampedRows(3_000, startMs: simulatedDay0Ms, stepMs: 1_000)
        try insertInTransaction(ArrayBindingInserter(connection: c, maxBatchSize: 5_000), rows, TestSessions([Self.north]))
        let rollups = ReadingRollups(connection: c, maxSeqsPerSession: 1_000)
        // Newest first: seqs 2,000–2,999 (a second apart) touch the 5-minute buckets from
        // the one holding seq 2,000 (seqs 1,800–2,099). By key, a bucket holds the rows
        // rolled so far; by time, all its rows, backlog included.
        try rollups.refresh()
        #expect(try count(c, "SELECT SUM(readings) FROM rollup_sensor_5m") == (timeIndex ? 1_200 : 1_000))
        var refreshes = 1
        while try rollups.refresh().sessions > 0 { refreshes += 1 }
        #expect(refreshes == 3)
        try expectEqualToFullScan(c, "after three partial refreshes")
    }

    @Test func oldRollupRowsArePruned() throws {
        let c = try TestServer.migratedConnection("rollprune")
        defer { c.close() }
        let rows = stampedRows(100, startMs: simulatedDay0Ms, stepMs: 3_600_000)  // 100 hours
        try insertInTransaction(ArrayBindingInserter(connection: c, maxBatchSize: 500), rows, TestSessions([Self.north]))
        let rollups = ReadingRollups(connection: c)
        try rollups.refresh()
        #expect(try count(c, "SELECT COUNT(*) FROM rollup_sensor_hour") == 100)
        // Keep 2 days before day 5: days 3 and 4 (48 hours) stay.
        try rollups.prune(nowMs: simulatedDay0Ms + 5 * dayMs + 1_000, retentionDays: 2)
        #expect(try count(c, "SELECT COUNT(*) FROM rollup_sensor_hour") == 100 - 72)
        #expect(try count(c, "SELECT COUNT(*) FROM rollup_sensor_5m WHERE bucket_start < '2026-03-13'") == 0)
        #expect(try count(c, "SELECT COUNT(*) FROM rollup_zone_hour") == 100 - 72)
    }
}
