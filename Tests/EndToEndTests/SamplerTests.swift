import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkDaemon
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// The sampler against a real MariaDB and a simulated gateway: alerts, zones, events,
/// and the promise that it never slows the reader.
@Suite("Sampler: health, alerts, zones, and never slowing the reader", .serialized, .timeLimit(.minutes(5)))
struct SamplerTests {
    func simulator(sensors: Int, rate: Double, framing: FrameEncoding = .text, misbehaving: Bool = false,
                   silentAfter: Double = 60) throws -> GatewaySimulator {
        var sc = GatewaySimulator.Config(sensors: sensors, ratePerSensor: rate)
        sc.encoding = framing
        sc.misbehaving = misbehaving
        sc.silentAfterSeconds = silentAfter
        sc.seed = 11
        sc.timeScale = 600  // bays change state every few seconds
        return try GatewaySimulator(config: sc)
    }

    func zone(_ sim: GatewaySimulator) throws -> ZoneMap {
        try ZoneMap(zones: [Zone(id: "A", facility: "Test garage", capacity: sim.config.sensors, dailyTarget: 100,
                                 sensors: Array(sim.sensorIds))])
    }

    @Test("misbehaving sensors raise exactly the expected alerts, once each, and nothing else")
    func misbehavingSensorsRaiseExpectedAlerts() throws {
        let dsn = try TestDatabase.newDatabase("sampler_alerts")
        let sim = try simulator(sensors: 20, rate: 5, misbehaving: true, silentAfter: 1)
        let zones = try zone(sim)
        let pipeline = try makePipeline(device: sim.devicePath, framing: .text, dsn: dsn) { $0.zones = zones }
        var logger = Logger(label: "sampler-test")
        logger.logLevel = .error
        ApplianceRunner.attachSampler(to: pipeline, config: pipeline.options.config, state: pipeline.options.state, dsn: dsn, logger: logger) { s in
            s.intervalMs = 200
            s.alertRules.offlineAfterSeconds = 1.5
            s.forecasterStateFile = nil
        }
        try pipeline.start()
        sim.start()
        // Long enough for the silent sensor to be offline for several sampler runs.
        Thread.sleep(forTimeInterval: 5)
        #expect(pipeline.sampler!.completedRuns >= 10)

        // The technician's commands, through the real CLI and the status socket.
        let state = pipeline.options.state.path
        let listed = try runCLI(["alerts", "--json", "--state-dir", state])
        #expect(listed.status == 0)
        let alerts = try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]] ?? []
        #expect(alerts.count == 3)
        // The README's keys, every one on every alert; no value is `null`, never a missing key.
        for key in ["id", "type", "severity", "subject", "sensor", "gateway_id", "message", "created_at",
                    "acknowledged", "acknowledged_at", "resolved_at"] {
            #expect(alerts.allSatisfy { $0[key] != nil }, "every alert has `\(key)`")
        }
        #expect(alerts.allSatisfy { $0["acknowledged_at"] is NSNull && $0["resolved_at"] is NSNull }, "open, unacknowledged")
        let offline = try #require(alerts.first { $0["type"] as? String == "DEVICE_OFFLINE" })
        let id = try #require(offline["id"] as? Int)
        #expect(try runCLI(["alerts", "ack", String(id), "--state-dir", state]).status == 0)
        #expect(try runCLI(["alerts", "ack", "999999", "--state-dir", state]).status != 0, "an unknown id is an error")
        let again = try runCLI(["alerts", "ack", String(id), "--state-dir", state])
        #expect(again.status == 0)
        let note = try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any] ?? [:]
        #expect(note["ok"] as? Bool == true && note["acknowledged"] as? Int == 0 && note["note"] as? String == "already acknowledged")
        let after = try JSONSerialization.jsonObject(with: Data(try runCLI(["alerts", "--json", "--state-dir", state]).out.utf8)) as? [[String: Any]] ?? []
        #expect(after.first { ($0["id"] as? Int) == id }?["acknowledged"] as? Bool == true)
        // The acknowledgement reaches the database within a sampler run.
        #expect(eventually(timeoutSeconds: 5) {
            (try? query(dsn, "SELECT acknowledged_at IS NOT NULL FROM alerts WHERE id = \(id)"))?.first?.first == "1"
        })
        // Stop the pipeline while the others still talk, so none of them looks offline.
        #expect(pipeline.stop() == 0)
        sim.close()

        var expected: Set<String> = []
        for m in sim.misbehaviors {
            switch m.kind {
            case .voltageOutOfRange: expected.insert("INVALID_DATA/\(m.sensor)")
            case .highPower: expected.insert("HIGH_POWER/\(m.sensor)")
            case .silent: expected.insert("DEVICE_OFFLINE/\(m.sensor)")
            }
        }
        #expect(expected.count == 3)
        let rows = try query(dsn, "SELECT type, COALESCE(sensor_id, subject), COUNT(*) FROM alerts GROUP BY type, COALESCE(sensor_id, subject)")
        let raised = Set(rows.map { "\($0[0]!)/\($0[1]!)" })
        #expect(raised == expected)
        #expect(rows.allSatisfy { $0[2] == "1" }, "each alert raised once, not once per sampler run")
        // Still open (the conditions hold), with a severity by type.
        let open = try query(dsn, "SELECT type, severity, acknowledged_at IS NOT NULL FROM alerts WHERE resolved_at IS NULL ORDER BY type")
        #expect(open.map { "\($0[0]!):\($0[1]!):\($0[2]!)" } == ["DEVICE_OFFLINE:critical:1", "HIGH_POWER:warning:0", "INVALID_DATA:warning:0"])
        // Health and last_seen are kept per sensor; the silent one scores lowest but for the others' alerts.
        let sensors = try query(dsn, "SELECT COUNT(*), SUM(health_score IS NOT NULL), SUM(last_seen_at IS NOT NULL) FROM sensors")[0]
        #expect(sensors == ["20", "20", "20"])
        #expect(try query(dsn, "SELECT COUNT(*) > 0 FROM sensor_health_history")[0][0] == "1")
    }

    @Test("occupancy changes become arrivals and departures in the zone, consistent with the readings")
    func occupancyEvents() throws {
        let dsn = try TestDatabase.newDatabase("sampler_events")
        let sim = try simulator(sensors: 30, rate: 10, framing: .binary)
        let zones = try zone(sim)
        let pipeline = try makePipeline(device: sim.devicePath, framing: .binary, dsn: dsn) {
            $0.zones = zones
            $0.framing = .binary
        }
        try pipeline.start()
        sim.start()
        Thread.sleep(forTimeInterval: 4)
        sim.stop()
        #expect(eventually(timeoutSeconds: 10) { pipeline.snapshot().accounting.in_flight == 0 })
        #expect(pipeline.stop() == 0)
        sim.close()
        // Every change of `occupied` between consecutive readings of a bay is exactly one event.
        let changes = try query(dsn, """
            SELECT COUNT(*) FROM (
              SELECT occupied, LAG(occupied) OVER (PARTITION BY gateway_id, sensor_id ORDER BY boot_id, seq) AS before_
              FROM readings) t
            WHERE before_ IS NOT NULL AND before_ <> occupied
            """)[0][0]
        let events = try query(dsn, "SELECT COUNT(*), SUM(zone_id = 'A'), SUM(event = 'arrival') FROM occupancy_events")[0]
        #expect(Int(changes ?? "0")! > 0)
        #expect(events[0] == changes)
        #expect(events[1] == changes, "every bay is in zone A")
        // Arrivals are changes to occupied = 1.
        let arrivals = try query(dsn, """
            SELECT COUNT(*) FROM occupancy_events e JOIN readings r USING (gateway_id, boot_id, seq)
            WHERE (e.event = 'arrival') = (r.occupied = 1)
            """)[0][0]
        #expect(arrivals == changes)
    }

    @Test("a stuck sampler does not slow the reader: every reading at the offered rate is stored, none dropped")
    func stuckSamplerDoesNotSlowReader() throws {
        // Offered: 40 sensors × 250 Hz = 10,000 readings/s for 4 s, twice: with the
        // sampler free, and with it stuck for the whole run (its cycle hook blocks, as a
        // sampler whose database connection hangs on a lock would).
        var achieved: [Bool: Double] = [:]
        for stuck in [false, true] {
            let dsn = try TestDatabase.newDatabase("sampler_stuck")
            let sim = try simulator(sensors: 40, rate: 250, framing: .binary)
            let zones = try zone(sim)
            let pipeline = try makePipeline(device: sim.devicePath, framing: .binary, dsn: dsn) {
                $0.zones = zones
                $0.framing = .binary
            }
            let gate = ConditionLock()
            let released = Locked(!stuck)
            var logger = Logger(label: "sampler-test")
            logger.logLevel = .error
            ApplianceRunner.attachSampler(to: pipeline, config: pipeline.options.config, state: pipeline.options.state, dsn: dsn, logger: logger) { s in
                s.intervalMs = 100
                s.forecasterStateFile = nil
                s.cycleHook = {
                    gate.withLock { while !released.withLock({ $0 }) { gate.wait(0, milliseconds: 50) } }
                }
            }
            try pipeline.start()
            let t0 = Clock.monotonicNanoseconds()
            sim.start()
            Thread.sleep(forTimeInterval: 4)
            sim.stop()
            #expect(eventually(timeoutSeconds: 20) { pipeline.snapshot().accounting.in_flight == 0 })
            let seconds = Double(Clock.monotonicNanoseconds() - t0) / 1e9
            let runsWhileStuck = pipeline.sampler!.completedRuns
            let snap = pipeline.snapshot()
            released.withLock { $0 = true }
            #expect(pipeline.stop() == 0)
            sim.close()
            let ledger = sim.ledger
            if stuck { #expect(runsWhileStuck == 0, "the sampler really was stuck for the whole run") }
            #expect(ledger.emitted > 30_000, "the offered load really flowed")
            #expect(ledger.txDropped == 0, "the gateway never had to drop a reading")
            #expect(snap.ring.reader_waits == 0, "the reader never waited")
            #expect(snap.store.rows_committed == ledger.emitted)
            #expect(try storedCount(dsn) == ledger.emitted)
            achieved[stuck] = Double(ledger.emitted) / seconds
        }
        // Same offered load, same outcome: nothing lost either way (the rates are for the log).
        print("stuck-sampler test: readings/s with the sampler free \(Int(achieved[false] ?? 0)), stuck \(Int(achieved[true] ?? 0))")
    }

    func runCLI(_ arguments: [String]) throws -> (status: Int32, out: String) {
        let p = try ChildProcess(Repository.parklinkExecutable, arguments)
        let status = p.wait(timeoutSeconds: 30) ?? -1
        return (status, p.output)
    }

    func storedCount(_ dsn: DSN) throws -> Int {
        Int(try query(dsn, "SELECT COUNT(*) FROM readings")[0][0] ?? "0") ?? 0
    }
}
