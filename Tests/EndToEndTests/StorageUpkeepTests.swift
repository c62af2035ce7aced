import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// The appliance keeps its own storage: the sampler's upkeep, in a running pipeline.
@Suite("Storage upkeep by the running appliance", .serialized, .timeLimit(.minutes(3)))
struct StorageUpkeepTests {
    @Test("today and the days ahead have their partition, and the rollups count every stored reading")
    func theRunningApplianceKeepsPartitionsAndRollups() throws {
        let dsn = try TestDatabase.newDatabase("storage_upkeep")
        var sc = GatewaySimulator.Config(sensors: 20, ratePerSensor: 10)
        sc.encoding = .binary
        sc.seed = 5
        sc.timeScale = 600  // bays change state every few seconds: arrivals to count
        let sim = try GatewaySimulator(config: sc)
        let zones = try ZoneMap(zones: [Zone(id: "A", facility: "Test garage", capacity: 20, dailyTarget: 100,
                                             sensors: Array(sim.sensorIds))])
        let pipeline = try makePipeline(device: sim.devicePath, framing: .binary, dsn: dsn) {
            $0.zones = zones
            $0.framing = .binary
        }
        var logger = Logger(label: "storage-test")
        logger.logLevel = .error
        ApplianceRunner.attachSampler(to: pipeline, config: pipeline.options.config, state: pipeline.options.state, dsn: dsn, logger: logger) { s in
            s.intervalMs = 200
            s.storage.intervalMs = 1_000
            s.forecasterStateFile = nil
        }
        try pipeline.start()
        sim.start()
        Thread.sleep(forTimeInterval: 4)
        sim.stop()
        #expect(eventually(timeoutSeconds: 10) { pipeline.snapshot().accounting.in_flight == 0 })
        let stored = try query(dsn, "SELECT COUNT(*) FROM readings")[0][0]
        // The upkeep runs every second: within a few, every stored reading is rolled up.
        #expect(eventually(timeoutSeconds: 10) {
            (try? query(dsn, "SELECT SUM(readings) FROM rollup_sensor_5m")[0][0]) == stored
        })
        #expect(pipeline.stop() == 0)
        sim.close()
        #expect(Int(stored ?? "0")! > 500)

        let today = Int64(Date().timeIntervalSince1970 * 1000) / ReadingPartitions.dayMs * ReadingPartitions.dayMs
        let expected = (0...7).map { "p" + Timestamps.sql(ms: today + Int64($0) * ReadingPartitions.dayMs).prefix(10).filter { $0 != "-" } }
        let names = try query(dsn, """
            SELECT PARTITION_NAME FROM information_schema.PARTITIONS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'readings' ORDER BY PARTITION_ORDINAL_POSITION
            """).map { $0[0] ?? "" }
        #expect(names == expected + ["pmax"])
        #expect(try query(dsn, "SELECT COUNT(*) FROM readings PARTITION (pmax)")[0][0] == "0")
        // Hours and zones sum to the same; arrivals are the stored arrivals.
        #expect(try query(dsn, "SELECT SUM(readings) FROM rollup_sensor_hour")[0][0] == stored)
        #expect(try query(dsn, "SELECT SUM(readings) FROM rollup_zone_hour")[0][0] == stored)
        #expect(try query(dsn, "SELECT SUM(arrivals) FROM rollup_sensor_5m")[0][0]
                == query(dsn, "SELECT COUNT(*) FROM occupancy_events WHERE event = 'arrival'")[0][0])
        #expect(try query(dsn, "SELECT SUM(occupied_readings) FROM rollup_sensor_5m")[0][0]
                == query(dsn, "SELECT SUM(occupied) FROM readings")[0][0])
    }

    @Test("parklink db partition moves an unpartitioned readings over (exit 0), says so when there is nothing to do, and a bad argument exits 64")
    func partitionCommand() throws {
        let dsn = try TestDatabase.newDatabase("db_partition")
        // A database as version 5 left it: readings without partitions, keyed (gateway_id, boot_id, seq).
        let c = try MariaDBConnection(dsn: dsn)
        defer { c.close() }
        try Schema.migrate(c)
        try c.execute("ALTER TABLE readings REMOVE PARTITIONING")
        try c.execute("ALTER TABLE readings DROP PRIMARY KEY, ADD PRIMARY KEY (gateway_id, boot_id, seq)")
        try c.execute("""
            INSERT INTO readings (gateway_id, boot_id, seq, sensor_id, received_at, gateway_ms, occupied)
            SELECT 'gw-1', 1, seq, seq MOD 20, UTC_TIMESTAMP(3) - INTERVAL seq SECOND, seq, seq MOD 2 FROM seq_0_to_4999
            """)
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("plpart-\(UInt32.random(in: 0...UInt32.max))").path
        let run = { (arguments: [String]) throws -> (status: Int32?, output: String) in
            let p = try ChildProcess(Repository.parklinkExecutable, arguments, standardError: .merge)
            let status = p.wait(timeoutSeconds: 120)
            return (status, p.output)
        }
        let moved = try run(["db", "partition", "--db", dsn.description, "--chunk-rows", "1000", "--state-dir", state])
        #expect(moved.status == 0, "\(moved.output)")
        #expect(moved.output.contains("5000 rows copied"), "\(moved.output)")
        #expect(try query(dsn, "SELECT COUNT(*) FROM readings")[0][0] == "5000")
        #expect(try query(dsn, "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'readings' AND PARTITION_NAME = 'pmax'")[0][0] == "1")
        let again = try run(["db", "partition", "--db", dsn.description, "--state-dir", state])
        #expect(again.status == 0 && again.output.contains("0 rows copied"), "\(again.output)")
        try c.execute("DROP TABLE readings_unpartitioned")
        let nothing = try run(["db", "partition", "--db", dsn.description, "--state-dir", state])
        #expect(nothing.status == 0 && nothing.output.contains("already partitioned"), "\(nothing.output)")
        let bad = try run(["db", "partition", "--db", dsn.description, "--chunk-rows", "5", "--state-dir", state])
        #expect(bad.status == 64, "\(bad.output)")
        #expect(bad.output.contains("--chunk-rows"))
    }
}
