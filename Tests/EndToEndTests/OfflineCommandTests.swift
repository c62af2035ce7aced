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

/// The reading commands with the daemon stopped: they answer from the database, in the
/// same JSON keys as the live daemon, and say that it is down.
@Suite("Offline: status, alerts, report and export with the daemon stopped", .serialized, .timeLimit(.minutes(5)))
struct OfflineCommandTests {
    struct Output {
        var status: Int32
        var out: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(out.utf8)) }
    }

    func parklink(_ arguments: [String], stderr: ChildProcess.StandardError = .discard) throws -> Output {
        let p = try ChildProcess(Repository.parklinkExecutable, arguments, standardError: stderr)
        let status = p.wait(timeoutSeconds: 60) ?? -1
        return Output(status: status, out: p.output)
    }

    static func keys(_ v: Any?) -> Set<String> { Set((v as? [String: Any])?.keys.map { $0 } ?? []) }

    @Test("a live appliance, stopped: status (exit 3), alerts, ack, report and export answer from the database")
    func daemonStopped() throws {
        let dsn = try TestDatabase.newDatabase("offline")
        var sc = GatewaySimulator.Config(sensors: 20, ratePerSensor: 5)
        sc.misbehaving = true
        sc.silentAfterSeconds = 1
        sc.seed = 5
        sc.timeScale = 600
        let sim = try GatewaySimulator(config: sc)
        // Zone A holds half the sensors; the rest are in no zone and count in the gateway's.
        let mapped = Array(sim.sensorIds.prefix(10))
        let zones = try ZoneMap(zones: [Zone(id: "A", facility: "Test", capacity: 10, dailyTarget: 50, sensors: mapped)])
        let pipeline = try makePipeline(device: sim.devicePath, framing: .text, dsn: dsn) { $0.zones = zones }
        var logger = Logger(label: "offline-test")
        logger.logLevel = .error
        ApplianceRunner.attachSampler(to: pipeline, config: pipeline.options.config, state: pipeline.options.state, dsn: dsn,
                                      logger: logger) { s in
            s.intervalMs = 200
            s.alertRules.offlineAfterSeconds = 1.5
            s.forecasterStateFile = nil
        }
        try pipeline.start()
        sim.start()
        Thread.sleep(forTimeInterval: 5)
        let state = pipeline.options.state.path
        let gateway = sim.config.gatewayId

        // Live: the gateway's unmapped sensors form a zone named after it, and status says how to map them.
        let live = try parklink(["status", "--json", "--state-dir", state])
        #expect(live.status == 0)
        let liveJSON = try #require(live.json as? [String: Any])
        #expect(liveJSON["stored"] is NSNull, "a daemon answered: no stored section")
        let liveSampler = try #require(liveJSON["sampler"] as? [String: Any])
        let liveZones = try #require(liveSampler["zones"] as? [[String: Any]])
        #expect(liveZones.map { $0["id"] as? String } == ["A", gateway])
        #expect(liveZones.map { $0["capacity"] as? Int } == [10, 10])
        let liveText = try parklink(["status", "--state-dir", state])
        #expect(liveText.out.contains("10 sensors are in no configured zone: each counts in a zone named after its gateway"))
        #expect(liveText.out.contains("parklink config init"))
        let liveAlerts = try #require(try parklink(["alerts", "--json", "--state-dir", state]).json as? [[String: Any]])
        #expect(liveAlerts.count == 3)

        #expect(pipeline.stop() == 0)
        sim.close()

        // Stopped: the same keys, from the database, exit 3.
        let stored = try parklink(["status", "--json", "--state-dir", state, "--db", dsn.description], stderr: .discard)
        #expect(stored.status == 3)
        let storedJSON = try #require(stored.json as? [String: Any])
        #expect(Self.keys(storedJSON) == Self.keys(liveJSON), "the live snapshot's keys, no more, no fewer")
        for key in ["pid", "link", "ring", "store", "accounting"] { #expect(storedJSON[key] is NSNull, "\(key): only a daemon knows") }
        let storedSampler = try #require(storedJSON["sampler"] as? [String: Any])
        #expect(Self.keys(storedSampler) == Self.keys(liveSampler))
        for section in ["garage", "alerts", "sampler"] {
            #expect(Self.keys(storedSampler[section]) == Self.keys(liveSampler[section]), "sampler.\(section)")
        }
        let storedZones = try #require(storedSampler["zones"] as? [[String: Any]])
        #expect(Self.keys(storedZones.first) == Self.keys(liveZones.first))
        #expect(storedZones.map { $0["id"] as? String } == ["A", gateway])
        let occupiedA = Int(try query(dsn, "SELECT COUNT(*) FROM sensors WHERE zone_id = 'A' AND occupied = 1")[0][0]!)!
        #expect(storedZones.first?["occupied"] as? Int == occupiedA)
        let info = try #require(storedJSON["stored"] as? [String: Any])
        #expect(info["daemon_running"] as? Bool == false)
        #expect((info["age_seconds"] as? Double).map { $0 >= 0 && $0 < 60 } == true)
        #expect(((info["gateways"] as? [[String: Any]])?.first?["gateway_id"] as? String) == gateway)
        let text = try parklink(["status", "--state-dir", state, "--db", dsn.description], stderr: .merge)
        #expect(text.status == 3)
        #expect(text.out.contains("the daemon is not running"))
        #expect(text.out.contains("parklink is NOT running") && text.out.contains("GATEWAY \(gateway): last reading"))
        #expect(text.out.contains("in no configured zone"))

        // Alerts: the same rows the daemon listed, every key; an acknowledgement written to the table.
        let alerts = try parklink(["alerts", "--json", "--state-dir", state, "--db", dsn.description])
        #expect(alerts.status == 0)
        let rows = try #require(alerts.json as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["id"] as? Int }) == Set(liveAlerts.compactMap { $0["id"] as? Int }))
        #expect(rows.allSatisfy { Self.keys($0) == Self.keys(liveAlerts.first) })
        #expect(rows.allSatisfy { $0["acknowledged_at"] is NSNull })
        let id = try #require(rows.first?["id"] as? Int)
        let ack = try parklink(["alerts", "ack", String(id), "--state-dir", state, "--db", dsn.description])
        #expect(ack.status == 0)
        #expect((ack.json as? [String: Any])?["acknowledged"] as? Int == 1)
        #expect(try query(dsn, "SELECT acknowledged_at IS NOT NULL FROM alerts WHERE id = \(id)")[0][0] == "1")
        let unknown = try parklink(["alerts", "ack", "999999", "--state-dir", state, "--db", dsn.description], stderr: .merge)
        #expect(unknown.status == 1 && unknown.out.contains("no open alert has id 999999"))
        let all = try #require(try parklink(["alerts", "--all", "--json", "--state-dir", state, "--db", dsn.description]).json as? [[String: Any]])
        #expect(all.first { $0["id"] as? Int == id }?["acknowledged_at"] is String)

        // Report and export: totals equal the tables' own counts.
        let today = "DATE(UTC_TIMESTAMP())"
        let arrivals = Int(try query(dsn, "SELECT COUNT(*) FROM occupancy_events WHERE event = 'arrival' AND DATE(at) = \(today)")[0][0]!)!
        #expect(arrivals > 0)
        let report = try parklink(["report", "--format", "json", "--tz", "UTC", "--db", dsn.description, "--state-dir", state])
        #expect(report.status == 0)
        let garage = try #require((report.json as? [String: Any])?["garage"] as? [String: Any])
        #expect(garage["vehicles_processed"] as? Int == arrivals)
        let events = Int(try query(dsn, "SELECT COUNT(*) FROM occupancy_events WHERE DATE(at) = \(today)")[0][0]!)!
        let day = String(Timestamps.iso(ms: Clock.wallMilliseconds())!.prefix(10))
        let export = try parklink(["export", "events", "--from", day, "--to", day, "--tz", "UTC", "--db", dsn.description,
                                   "--state-dir", state])
        #expect(export.status == 0)
        #expect(export.out.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == events + 1, "a header and every event")

        // watch --since: what happened, from the tables (nothing to follow live), exit 3.
        let watched = try parklink(["watch", "--since", "1h", "--json", "--state-dir", state, "--db", dsn.description])
        #expect(watched.status == 3)
        let lines = try watched.out.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let bayChanges = Int(try query(dsn, "SELECT COUNT(*) FROM occupancy_events WHERE at >= UTC_TIMESTAMP() - INTERVAL 1 HOUR")[0][0]!)!
        #expect(bayChanges > 0)
        #expect(lines.filter { $0["kind"] as? String == "bay" }.count == bayChanges, "every bay change of the hour")
        // Every alert raised in the hour, including one that has cleared since (a ZONE_FILLING
        // may open and close within the run): the table's rows, not the open ones.
        let raised = Int(try query(dsn, "SELECT COUNT(*) FROM alerts WHERE created_at >= UTC_TIMESTAMP() - INTERVAL 1 HOUR")[0][0]!)!
        #expect(raised >= liveAlerts.count)
        #expect(lines.filter { $0["kind"] as? String == "alert" && $0["event"] as? String == "raised" }.count == raised)
        #expect(lines.allSatisfy { $0["replayed"] as? Bool == true })
        let follow = try parklink(["watch", "--state-dir", state, "--db", dsn.description], stderr: .merge)
        #expect(follow.status == 1 && follow.out.contains("--since"), "nothing to follow live: says to give --since")
    }

    @Test("a stopped private database is started for the read and stopped after, unless another process uses it")
    func privateDatabaseForARead() throws {
        let state = Repository.temporaryDirectory("ploff")
        let server = PrivateMariaDBServer(stateDirectory: state, options: .init(stopWhenProcessExits: getpid()))
        defer { try? server.destroy() }
        let c = try MariaDBConnection(dsn: try server.start())
        try Schema.migrate(c)
        try c.execute("INSERT INTO sensors (gateway_id, sensor_id, occupied, last_seen_at, updated_at) VALUES ('GW', 1, 1, NOW(3), NOW(3))")
        c.close()
        try server.stop()

        let first = try parklink(["status", "--json", "--state-dir", state])
        #expect(first.status == 3)
        #expect(((first.json as? [String: Any])?["sampler"] as? [String: Any])?["garage"] != nil)
        #expect(!server.status().running, "started for the read, stopped after it")

        // Another process uses the server (as a daemon does, for its whole life: this test
        // process, holding the lock a user holds): it stays up.
        let user = try FileLock(path: state + "/mariadb/users.lock")
        try user.lock(.shared)
        #expect(try parklink(["status", "--state-dir", state]).status == 3)
        #expect(server.status().running, "not stopped under another user")
        user.close()
        // The next reader, the last user, stops the server a reader started.
        #expect(try parklink(["alerts", "--state-dir", state]).status == 0)
        #expect(!server.status().running)

        // Two reads at once: one server, both answer, and it is stopped after.
        let a = try ChildProcess(Repository.parklinkExecutable, ["status", "--json", "--state-dir", state])
        let b = try ChildProcess(Repository.parklinkExecutable, ["status", "--json", "--state-dir", state])
        #expect(a.wait(timeoutSeconds: 60) == 3 && b.wait(timeoutSeconds: 60) == 3)
        #expect(!server.status().running)
        #expect(try String(contentsOfFile: server.logPath, encoding: .utf8).contains("Unable to lock") == false,
                "never two servers on one datadir")
    }

    @Test("bad arguments: `parklink:` and the usage, never `Error:`; a bad CSV line names the file, the line and the fix")
    func errorMessages() throws {
        let negative = try parklink(["simulate", "--sensors", "-3"], stderr: .merge)
        #expect(negative.status == 64)
        #expect(negative.out.hasPrefix("parklink: sensors must be 1...65535, got -3"))
        #expect(negative.out.contains("Usage: parklink simulate") && !negative.out.contains("Missing value"))
        let badDate = try parklink(["report", "--date", "2025-13-01"], stderr: .merge)
        #expect(badDate.status == 64 && badDate.out.hasPrefix("parklink: ") && badDate.out.contains("Usage: parklink report"))
        let csv = Repository.temporaryDirectory("plcsv") + "/cars.csv"
        try "SystemCodeNumber,Capacity,Occupancy,LastUpdated\nA,10,5,2016-10-04 07:59:42\nB,x,5,2016-10-04 07:59:42\nC,10,5\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let evaluate = try parklink(["forecast", "evaluate", "--csv", csv], stderr: .merge)
        #expect(evaluate.status == 1)
        #expect(evaluate.out.hasPrefix("parklink: \(csv):3: capacity `x` is not an integer (and 1 more bad line: 4). Fix: "))
        for output in [negative.out, badDate.out, evaluate.out] { #expect(!output.contains("Error:")) }
    }
}
