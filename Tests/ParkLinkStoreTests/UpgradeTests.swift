import Foundation
import ParkLinkProtocol
import Synchronization
import Testing

@testable import ParkLinkStore

/// A database as version 5 left it (readings unpartitioned, key (gateway_id, boot_id,
/// seq)), with rows, then migrated to the current version: migration 6 must leave a
/// populated readings alone.
func oldLayoutDatabase(_ label: String, rows: [(SessionKey, [StampedReading])],
                       beforeMigrating: (MariaDBConnection) throws -> Void = { _ in }) throws -> DSN {
    let dsn = try TestServer.newDatabase(label)
    let c = try MariaDBConnection(dsn: dsn)
    defer { c.close() }
    for migration in SchemaMigrations.all where migration.version <= 5 {
        for statement in migration.statements { try c.execute(statement) }
    }
    for (key, batch) in rows {
        try insertInTransaction(ArrayBindingInserter(connection: c, maxBatchSize: 5_000), batch, TestSessions([key]))
    }
    try beforeMigrating(c)
    try Schema.migrate(c)
    return dsn
}

/// Writes new readings into `readings` until stopped, as the appliance's writer would
/// during the upgrade: one boot going on, and a new boot whose key sorts before any
/// other (the copy's cursor has passed it).
final class BackgroundWriter: @unchecked Sendable {
    // @unchecked: `thread` is set before start and read after stop; the rest is atomic.
    private let stop = Atomic(false)
    let written = Atomic(0)
    let failures = Atomic(0)
    private let done = DispatchSemaphore(value: 0)
    private var thread: Thread?

    func start(_ dsn: DSN, keys: [SessionKey], firstSeqs: [UInt32], startMs: Int64) {
        let t = Thread { [self] in
            MariaDB.threadInit()
            defer {
                MariaDB.threadEnd()
                done.signal()
            }
            guard let c = try? MariaDBConnection(dsn: dsn) else {
                failures.add(1, ordering: .relaxed)
                return
            }
            defer { c.close() }
            let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 1_000)
            var seqs = firstSeqs
            var at = startMs
            while !stop.load(ordering: .relaxed) {
                for (i, key) in keys.enumerated() {
                    let batch = stampedRows(50, firstSeq: seqs[i], startMs: at, stepMs: 20)
                    do {
                        try insertInTransaction(inserter, batch, TestSessions([key]))
                        seqs[i] += 50
                        written.add(50, ordering: .relaxed)
                    } catch {
                        failures.add(1, ordering: .relaxed)  // retried with the same batch, as the writer does
                    }
                }
                at += 1_000
                Thread.sleep(forTimeInterval: 0.005)
            }
        }
        thread = t
        t.start()
    }

    func finish() {
        stop.store(true, ordering: .relaxed)
        done.wait()
    }
}

@Suite("Upgrading readings to the partitioned layout")
struct UpgradeTests {
    static let old = [SessionKey(gatewayId: "gw-b", bootId: 5), SessionKey(gatewayId: "gw-b", bootId: 9),
                      SessionKey(gatewayId: "gw-c", bootId: 1)]

    @Test func aPopulatedTableIsLeftUnpartitionedByTheMigration() throws {
        let start = simulatedDay0Ms
        let dsn = try oldLayoutDatabase("upold", rows: [(Self.old[0], stampedRows(10, startMs: start))]) { c in
            try c.execute("""
                INSERT INTO occupancy_events (gateway_id, boot_id, seq, sensor_id, event, at)
                VALUES ('gw-b', 5, 3, 3, 'arrival', \(SQLLiteral.time(start + 3)))
                """)
        }
        let c = try MariaDBConnection(dsn: dsn)
        defer { c.close() }
        #expect(try Schema.appliedVersions(c) == Schema.migrations.map(\.version))
        #expect(try partitionNames(c).isEmpty)
        #expect(try ReadingPartitions(connection: c).maintain(nowMs: start).partitioned == false)
        #expect(try indexNames(c, "readings") == ["PRIMARY", "readings_sensor_time"], "migrations 7 and 8 change no index of a populated table")
        #expect(try indexNames(c, "occupancy_events")
                == ["PRIMARY", "occupancy_events_sensor_time", "occupancy_events_time", "occupancy_events_zone_time"])
        #expect(try ReadingRollups.hasTimeIndex(c), "its rollups read buckets by time")
    }

    /// Interrupted after a few chunks and resumed, with a writer inserting all along:
    /// at the end every row is in the partitioned table exactly once.
    @Test func interruptedAndResumedWhileTheWriterWrites() throws {
        let now = simulatedDay0Ms + 10 * dayMs
        var seed: [(SessionKey, [StampedReading])] = []
        for (i, key) in Self.old.enumerated() {
            // Five days of rows, a minute apart within each boot: 7,200 rows a boot.
            seed.append((key, stampedRows(7_200, startMs: now - 5 * dayMs + Int64(i) * 1_000, stepMs: 60_000)))
        }
        let dsn = try oldLayoutDatabase("upgrade", rows: seed)
        let writer = BackgroundWriter()
        let newBoot = SessionKey(gatewayId: "gw-a", bootId: 3)
        writer.start(dsn, keys: [Self.old[1], newBoot], firstSeqs: [7_200, 0], startMs: now)

        let first = try MariaDBConnection(dsn: dsn)
        var chunks = 0
        let partial = try ReadingsUpgrade(connection: first, chunkRows: 1_000).run(nowMs: now) {
            chunks += 1
            return chunks <= 4
        }
        first.close()
        #expect(!partial.finished)
        // Four chunks of 1,000 keys each, plus any row the writer added inside a chunk's key
        // range between finding the chunk's last key and copying it (the session it appends
        // to may end inside the range): copied with the chunk, and counted.
        #expect(partial.copiedRows >= 4_000 && partial.copiedRows < 5_000)

        let c = try MariaDBConnection(dsn: dsn)
        defer { c.close() }
        #expect(try partitionNames(c).isEmpty)
        #expect(try count(c, "SELECT copied_rows FROM readings_upgrade") == partial.copiedRows)
        let done = try ReadingsUpgrade(connection: c, chunkRows: 1_000).run(nowMs: now)
        #expect(done.finished)
        #expect(done.copiedRows >= 21_600 - 4_000)
        #expect(done.caughtUpRows > 0)
        Thread.sleep(forTimeInterval: 0.3)  // the writer goes on into the new table
        writer.finish()

        #expect(writer.failures.load(ordering: .relaxed) == 0)
        let written = writer.written.load(ordering: .relaxed)
        #expect(written > 0)
        #expect(try partitionNames(c).first == ReadingPartitions.name(day: now - 90 * dayMs))
        #expect(try partitionNames(c).last == "pmax")
        #expect(try indexNames(c, "readings") == ["PRIMARY", "readings_time"], "the moved table has migration 7's index")
        #expect(try count(c, "SELECT COUNT(*) FROM readings") == 21_600 + written)
        #expect(try count(c, "SELECT COUNT(*) FROM (SELECT 1 FROM readings GROUP BY gateway_id, boot_id, seq HAVING COUNT(*) > 1) d") == 0)
        // Every row of the old table is in the new one, with the same values.
        #expect(try count(c, """
            SELECT COUNT(*) FROM readings_unpartitioned o LEFT JOIN readings n
              ON n.gateway_id = o.gateway_id AND n.boot_id = o.boot_id AND n.seq = o.seq AND n.received_at = o.received_at
                 AND n.sensor_id = o.sensor_id AND n.occupied = o.occupied AND n.voltage_dv <=> o.voltage_dv
            WHERE n.seq IS NULL
            """) == 0)
        // Each boot's seqs have no hole: nothing was missed at the swap.
        for row in try c.query("SELECT gateway_id, boot_id, COUNT(*), MIN(seq), MAX(seq) FROM readings GROUP BY gateway_id, boot_id") {
            #expect(row[2] == row[4].flatMap { UInt64($0) }.map { String($0 + 1) }, "\(row)")
            #expect(row[3] == "0")
        }
        #expect(try c.queryValue("SELECT state FROM readings_upgrade") == "done")
        let again = try ReadingsUpgrade(connection: c).run(nowMs: now)
        #expect(again.finished && again.copiedRows == 0 && again.caughtUpRows == 0)
    }
}
