import Foundation
import ParkLinkProtocol
import Testing

@testable import ParkLinkStore

/// 2026-03-10 00:00:00 UTC: the simulated clock's first day.
let simulatedDay0Ms: Int64 = 1_773_100_800_000
let dayMs = ReadingPartitions.dayMs

/// `count` readings of one session, seqs from `firstSeq`, stamped `stepMs` apart from `startMs`.
func stampedRows(_ count: Int, firstSeq: UInt32 = 0, startMs: Int64, stepMs: Int64 = 1, session: UInt32 = 0) -> [StampedReading] {
    var rows: [StampedReading] = []
    for i in 0..<count {
        let voltage: UInt16? = i % 4 == 0 ? nil : UInt16(2290 + i % 30)
        let reading = Reading(seq: firstSeq + UInt32(i), sensor: UInt16(i % 20), gatewayMs: UInt32(i), occupied: i % 3 == 0,
                              distanceCm: 100, voltageDv: voltage, currentMa: UInt16(100 + i % 900), powerFactorPct: 90)
        rows.append(StampedReading(session: session, receivedAtMs: startMs + Int64(i) * stepMs, reading: reading))
    }
    return rows
}

func partitionNames(_ c: MariaDBConnection) throws -> [String] {
    try ReadingPartitions(connection: c).partitions().map(\.name)
}

func rowsIn(_ c: MariaDBConnection, partition: String) throws -> Int {
    Int(try c.queryValue("SELECT COUNT(*) FROM readings PARTITION (\(partition))") ?? "") ?? -1
}

func count(_ c: MariaDBConnection, _ sql: String) throws -> Int { Int(try c.queryValue(sql) ?? "") ?? -1 }

/// The names of `table`'s indexes (`PRIMARY` for the key), sorted.
func indexNames(_ c: MariaDBConnection, _ table: String) throws -> [String] {
    try c.query("""
        SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '\(table)'
        """).compactMap { $0[0] }.sorted()
}

/// A migrated database whose (empty) readings has only the catch-all partition, for a
/// simulated clock: migration 6 gave it today's days, and the simulated days are in 2026-03.
func simulatedClockConnection(_ label: String, allowLocalInfile: Bool = false) throws -> MariaDBConnection {
    let c = try TestServer.migratedConnection(label, allowLocalInfile: allowLocalInfile)
    try c.execute("ALTER TABLE readings PARTITION BY RANGE COLUMNS (received_at) (PARTITION pmax VALUES LESS THAN (MAXVALUE))")
    return c
}

/// The `pYYYYMMDD` names of `days` days from `first` (days after day 0).
func dayNames(_ first: Int, through last: Int) -> [String] {
    (first...last).map { ReadingPartitions.name(day: simulatedDay0Ms + Int64($0) * dayMs) }
}

@Suite("readings by day")
struct PartitionTests {
    static let key = SessionKey(gatewayId: "gw-mid", bootId: 77)

    @Test func aNewDatabaseHasTodayTheWeekAheadAndACatchAll() throws {
        let c = try TestServer.migratedConnection("part")
        defer { c.close() }
        let today = ReadingPartitions.floorDay(Int64(Date().timeIntervalSince1970 * 1000))
        let week = (0...7).map { ReadingPartitions.name(day: today + Int64($0) * dayMs) }
        #expect(try partitionNames(c) == week + ["pmax"])
        #expect(try ReadingPartitions(connection: c).partitions().last?.endMs == nil)
        // The upkeep finds nothing to do the same day.
        let upkeep = try ReadingPartitions(connection: c).maintain(nowMs: today + 1_000)
        #expect(upkeep.created.isEmpty && upkeep.dropped.isEmpty)
    }

    /// The claim of README "Storage": a reading keeps the received_at the reader stamped,
    /// so replaying a batch after midnight (after the partitions rolled) stores nothing
    /// twice, though the key now holds the time; and a restart resumes after the stored seqs.
    @Test(arguments: InserterKind.allCases)
    func replaysAcrossMidnightAreStoredOnce(_ kind: InserterKind) throws {
        let c = try simulatedClockConnection("midnight", allowLocalInfile: true)
        defer { c.close() }
        let partitions = ReadingPartitions(connection: c)
        try partitions.maintain(nowMs: simulatedDay0Ms + 12 * 3_600_000, settings: .init(daysAhead: 1, retentionDays: 90))
        // 1,000 readings in the last second of day 0, 1,000 in the first of day 1.
        let midnight = simulatedDay0Ms + dayMs
        let batch = stampedRows(1_000, startMs: midnight - 1_000) + stampedRows(1_000, firstSeq: 1_000, startMs: midnight)
        let sessions = TestSessions([Self.key])
        let inserter = try kind.make(c, batch: 500)
        try insertInTransaction(inserter, batch, sessions)
        #expect(try count(c, "SELECT COUNT(*) FROM readings") == 2_000)

        // After midnight: the partitions roll, and the same batch (a retry, a spool drain)
        // is written again, with the stamps it carried the first time.
        let upkeep = try partitions.maintain(nowMs: midnight + 5_000, settings: .init(daysAhead: 1, retentionDays: 90))
        #expect(upkeep.created == [ReadingPartitions.name(day: midnight + dayMs)])
        try insertInTransaction(inserter, batch, sessions)
        #expect(inserter.lastInsertedCount == 0)
        try insertInTransaction(inserter, Array(batch[500..<1_500]), sessions)
        #expect(inserter.lastInsertedCount == 0)
        #expect(try count(c, "SELECT COUNT(*) FROM readings") == 2_000)
        #expect(try count(c, "SELECT COUNT(*) FROM (SELECT 1 FROM readings GROUP BY gateway_id, boot_id, seq HAVING COUNT(*) > 1) d") == 0)
        #expect(try rowsIn(c, partition: ReadingPartitions.name(day: simulatedDay0Ms)) == 1_000)
        #expect(try rowsIn(c, partition: ReadingPartitions.name(day: midnight)) == 1_000)

        // A restarted appliance resumes after the highest stored seq of the boot.
        try c.execute("""
            INSERT INTO gateway_sessions (gateway_id, boot_id, first_seen_at) VALUES ('gw-mid', 77, '2026-03-10 23:00:00')
            """)
        #expect(try ReadingHistory(connection: c).resumePoints() == [Self.key: 2_000])
    }

    /// A simulated clock walks 14 days (with 4 days of the appliance off): each day has its
    /// partition before its first reading, the catch-all stays empty, and retention drops
    /// whole days, rows and all.
    @Test func partitionsRollAndRetentionDropsOldDays() throws {
        let c = try simulatedClockConnection("roll")
        defer { c.close() }
        let partitions = ReadingPartitions(connection: c)
        let settings = ReadingPartitions.Settings(daysAhead: 2, retentionDays: 3)
        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 1_000)
        let sessions = TestSessions([Self.key])
        var seq: UInt32 = 0
        var stored: [Int: Int] = [:]  // day → rows
        for day in [0, 1, 2, 3, 4, 5, 10, 11, 12, 13] {
            let now = simulatedDay0Ms + Int64(day) * dayMs + 3_600_000
            let upkeep = try partitions.maintain(nowMs: now, settings: settings)
            #expect(upkeep.ran && upkeep.partitioned)
            let rows = 100 + day
            try insertInTransaction(inserter, stampedRows(rows, firstSeq: seq, startMs: now, stepMs: 60_000), sessions)
            seq += UInt32(rows)
            stored[day] = rows
            stored = stored.filter { $0.key >= day - 3 }
            // Kept: today and 3 full days before (from the first day there was), 2 ahead, pmax.
            #expect(try partitionNames(c) == dayNames(max(0, day - 3), through: day + 2) + ["pmax"], "day \(day)")
            #expect(try rowsIn(c, partition: "pmax") == 0)
            #expect(try count(c, "SELECT COUNT(*) FROM readings") == stored.values.reduce(0, +), "day \(day)")
            for (d, n) in stored where d >= day - 3 {
                #expect(try rowsIn(c, partition: ReadingPartitions.name(day: simulatedDay0Ms + Int64(d) * dayMs)) == n)
            }
        }
        // Run twice the same day: nothing to do.
        let again = try partitions.maintain(nowMs: simulatedDay0Ms + 13 * dayMs + 7_200_000, settings: settings)
        #expect(again.created.isEmpty && again.dropped.isEmpty)
    }

    /// What hangs off the readings of dropped days goes with them: their occupancy events
    /// (bounded DELETEs, not partitions) and the rollup progress of sessions with no row
    /// left. The rollups themselves stay (their own, longer retention).
    @Test func eventsAndRollupProgressGoWithTheirDays() throws {
        let c = try simulatedClockConnection("retention_events")
        defer { c.close() }
        let partitions = ReadingPartitions(connection: c)
        let settings = ReadingPartitions.Settings(daysAhead: 1, retentionDays: 3)
        let old = SessionKey(gatewayId: "gw-old", bootId: 1), kept = SessionKey(gatewayId: "gw-kept", bootId: 2)
        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 1_000)
        try partitions.maintain(nowMs: simulatedDay0Ms, settings: settings)
        // gw-old sends on day 0 only; gw-kept on days 0 and 3. An arrival per reading.
        try insertInTransaction(inserter, stampedRows(50, startMs: simulatedDay0Ms + 1_000, stepMs: 1_000), TestSessions([old]))
        try insertInTransaction(inserter, stampedRows(50, startMs: simulatedDay0Ms + 1_000, stepMs: 1_000), TestSessions([kept]))
        try partitions.maintain(nowMs: simulatedDay0Ms + 3 * dayMs, settings: settings)
        try insertInTransaction(inserter, stampedRows(50, firstSeq: 50, startMs: simulatedDay0Ms + 3 * dayMs + 1_000, stepMs: 1_000),
                                TestSessions([kept]))
        try c.execute("""
            INSERT INTO occupancy_events (gateway_id, boot_id, seq, sensor_id, event, at)
            SELECT gateway_id, boot_id, seq, sensor_id, 'arrival', received_at FROM readings
            """)
        let rollups = ReadingRollups(connection: c)
        try rollups.refresh()
        #expect(try count(c, "SELECT COUNT(*) FROM rollup_progress") == 2)
        #expect(try rollups.pruneProgress() == 0, "every session still has readings")

        // Day 4 keeps days 1 to 3: day 0 goes, with gw-old's every reading.
        let now = simulatedDay0Ms + 4 * dayMs + 60_000
        let upkeep = try partitions.maintain(nowMs: now, settings: settings)
        #expect(upkeep.dropped == dayNames(0, through: 0))
        #expect(try OccupancyEventRetention(connection: c).prune(nowMs: now, retentionDays: settings.retentionDays) == 100)
        #expect(try count(c, "SELECT COUNT(*) FROM occupancy_events") == 50)
        #expect(try count(c, "SELECT COUNT(*) FROM occupancy_events WHERE at < '2026-03-11'") == 0)
        #expect(try rollups.pruneProgress() == 1)
        #expect(try c.query("SELECT gateway_id FROM rollup_progress") == [["gw-kept"]])
        // The seq ranges of day 0's buckets go with its rows: gw-old's one, gw-kept's first.
        #expect(try count(c, "SELECT COUNT(*) FROM rollup_seq_ranges") == 3)
        #expect(try rollups.pruneSeqRanges(nowMs: now, retentionDays: settings.retentionDays) == 2)
        #expect(try c.query("SELECT gateway_id, first_seq, last_seq FROM rollup_seq_ranges") == [["gw-kept", "50", "99"]])
        // The rollups of day 0 stay, and a refresh after the pruning changes nothing.
        let before = try ParkLinkStoreTests.rollups(c, "5m")
        #expect(before.sensors.count == 60, "20 sensors: gw-old day 0, gw-kept days 0 and 3")
        try rollups.refresh()
        #expect(try ParkLinkStoreTests.rollups(c, "5m") == before)
    }

    /// A clock stepped 30 days ahead: the rows land in the catch-all (not refused, which
    /// INSERT IGNORE would have made a silent loss), and the next upkeep gives them their day.
    @Test func rowsPastTheLastDayAreKeptInTheCatchAll() throws {
        let c = try simulatedClockConnection("future")
        defer { c.close() }
        let partitions = ReadingPartitions(connection: c)
        let settings = ReadingPartitions.Settings(daysAhead: 1, retentionDays: 90)
        try partitions.maintain(nowMs: simulatedDay0Ms, settings: settings)
        let later = simulatedDay0Ms + 30 * dayMs + 1_000
        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 100)
        try insertInTransaction(inserter, stampedRows(50, startMs: later), TestSessions([Self.key]))
        #expect(inserter.lastInsertedCount == 50)
        #expect(try rowsIn(c, partition: "pmax") == 50)
        try partitions.maintain(nowMs: later, settings: settings)
        #expect(try rowsIn(c, partition: "pmax") == 0)
        #expect(try rowsIn(c, partition: ReadingPartitions.name(day: later - 1_000)) == 50)
        #expect(try partitionNames(c).count == 33)
    }

    /// Two upkeeps at once (two appliances of one server): one runs, the other skips, and
    /// the layout is what one alone would make.
    @Test func concurrentUpkeepsDoNotRace() throws {
        let dsn = try TestServer.newDatabase("race")
        let setup = try MariaDBConnection(dsn: dsn)
        defer { setup.close() }
        try Schema.migrate(setup)
        try setup.execute("ALTER TABLE readings PARTITION BY RANGE COLUMNS (received_at) (PARTITION pmax VALUES LESS THAN (MAXVALUE))")
        let all = try onConcurrentConnections(3, dsn: dsn) { c in
            try ReadingPartitions(connection: c).maintain(nowMs: simulatedDay0Ms)
        }.map { try $0.get() }
        #expect(all.filter(\.ran).count >= 1)
        #expect(try partitionNames(setup) == dayNames(0, through: 7) + ["pmax"])
    }
}
