import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSimulator
import ParkLinkStore
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
}
