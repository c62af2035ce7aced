import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// The live side against the real thing: the pipeline and its sampler on a simulated
/// gateway's pty (which records every `LED` it is sent), a real MariaDB, and the
/// `parklink` CLI as a separate process.
@Suite("Live: LEDs, overrides, watch and status --watch against a real pty, MariaDB and CLI", .serialized, .timeLimit(.minutes(5)))
struct LiveTests {
    struct Rig {
        let sim: GatewaySimulator
        let pipeline: Pipeline
        let dsn: DSN
        var state: String { pipeline.options.state.path }

        func stop() {
            _ = pipeline.stop()
            sim.close()
        }
    }

    func rig(_ label: String, sensors: Int = 8, rate: Double = 4, timeScale: Double = 1, misbehaving: Bool = false,
             zone: [UInt16]? = nil, sampler: @escaping (inout SamplerConfig) -> Void = { _ in }) throws -> Rig {
        let dsn = try TestDatabase.newDatabase(label)
        var sc = GatewaySimulator.Config(sensors: sensors, ratePerSensor: rate)
        sc.seed = 5
        sc.timeScale = timeScale
        sc.misbehaving = misbehaving
        sc.silentAfterSeconds = 1
        let sim = try GatewaySimulator(config: sc)
        let zones = try ZoneMap(zones: [Zone(id: "A", facility: "Test garage", capacity: zone?.count ?? sensors, dailyTarget: 100,
                                             sensors: zone ?? Array(sim.sensorIds))])
        let pipeline = try makePipeline(device: sim.devicePath, framing: .text, dsn: dsn) { $0.zones = zones }
        var logger = Logger(label: "live-test")
        logger.logLevel = .error
        ApplianceRunner.attachSampler(to: pipeline, config: pipeline.options.config, state: pipeline.options.state, dsn: dsn,
                                      logger: logger) { s in
            s.intervalMs = 200
            s.forecasterStateFile = nil
            sampler(&s)
        }
        try pipeline.start()
        sim.start()
        return Rig(sim: sim, pipeline: pipeline, dsn: dsn)
    }

    func cli(_ arguments: [String]) throws -> (status: Int32, out: String) {
        let p = try ChildProcess(Repository.parklinkExecutable, arguments, standardError: .merge)
        let status = p.wait(timeoutSeconds: 30) ?? -1
        return (status, p.output)
    }

    /// Each sensor's occupancy in its latest stored reading.
    func stored(_ dsn: DSN) throws -> [UInt16: Bool] {
        var out: [UInt16: Bool] = [:]
        for r in try query(dsn, """
            SELECT r.sensor_id, r.occupied FROM readings r
            JOIN (SELECT sensor_id, MAX(received_at) AS t FROM readings GROUP BY sensor_id) m
              ON m.sensor_id = r.sensor_id AND m.t = r.received_at
            """) {
            out[UInt16(r[0]!)!] = r[1] == "1"
        }
        return out
    }

    func colour(_ occupied: Bool) -> LEDColor { occupied ? .red : .green }

    func zoneOccupied(_ rig: Rig) -> Int? {
        guard case .array(let zones)? = rig.pipeline.snapshot().sampler?["zones"], case .object(let a)? = zones.first,
              case .number(let n)? = a["occupied"] else { return nil }
        return Int(n)
    }

    @Test("an override round-trips to the gateway's LED: BLUE while it holds, the sensor's colour after auto and after expiry; recorded with who and why")
    func overrideRoundTripsToTheLED() throws {
        let rig = try rig("live_led")
        defer { rig.stop() }
        // Every bay shows its state, once the first readings are in.
        #expect(eventually(timeoutSeconds: 20) {
            let states = (try? stored(rig.dsn)) ?? [:]
            let leds = rig.sim.downlink.ledBySensor
            return states.count == 8 && states.allSatisfy { leds[$0.key] == colour($0.value) }
        }, "LEDs: \(rig.sim.downlink.ledBySensor), stored: \((try? stored(rig.dsn)) ?? [:])")
        let states = try stored(rig.dsn)
        let before = try #require(states[3] as Bool?)
        let occupiedBefore = states.values.filter { $0 }.count
        #expect(eventually(timeoutSeconds: 5) { zoneOccupied(rig) == occupiedBefore })

        // Set by hand, through the CLI, with a reason: BLUE, and occupancy follows it.
        let wanted = before ? "free" : "occupied"
        let set = try cli(["override", "3", "--state", wanted, "--reason", "coned off for resurfacing", "--json", "--state-dir", rig.state])
        #expect(set.status == 0, "\(set.out)")
        let reply = try #require(try JSONSerialization.jsonObject(with: Data(set.out.utf8)) as? [String: Any])
        let row = try #require(reply["override"] as? [String: Any])
        #expect(reply["sensor"] as? String == "SIM-01/3" && row["state"] as? String == wanted)
        #expect((row["set_by"] as? String)?.hasSuffix("(uid \(getuid()))") == true || row["set_by"] as? String == "uid \(getuid())")
        #expect(reply["ended"] is NSNull && row["expires_at"] is NSNull)
        let replied = Clock.monotonicNanoseconds()
        #expect(eventually(timeoutSeconds: 5) { rig.sim.downlink.ledBySensor[3] == .blue })
        // A figure for the log (the simulator records what it read at its next tick, and
        // `eventually` polls every 50 ms): from the CLI's exit to the gateway's LED (0: it
        // was there before the CLI had exited, as the daemon queues it before replying).
        print("override → LED at the gateway: \((Clock.monotonicNanoseconds() - replied) / 1_000_000) ms after `parklink override` exited")
        #expect(eventually(timeoutSeconds: 5) { zoneOccupied(rig) == occupiedBefore + (before ? -1 : 1) }, "the zone counts the bay as told")
        let recorded = try query(rig.dsn, "SELECT gateway_id, sensor_id, zone_id, state, reason, set_by_uid, set_by_pid > 0, ended_at FROM overrides")
        #expect(recorded.map { $0.map { $0 ?? "NULL" } } == [["SIM-01", "3", "A", wanted, "coned off for resurfacing", "\(getuid())", "1", "NULL"]])
        let text = try cli(["status", "--state-dir", rig.state])
        #expect(text.out.contains("OVERRIDES 1 in force") && text.out.contains("SIM-01/3 \(wanted)"), "\(text.out)")

        // Back to auto: the sensor's own colour again, and the end recorded.
        let auto = try cli(["override", "SIM-01/3", "--state", "auto", "--state-dir", rig.state])
        #expect(auto.status == 0 && auto.out.contains("SIM-01/3 follows its sensor again"), "\(auto.out)")
        #expect(eventually(timeoutSeconds: 5) { rig.sim.downlink.ledBySensor[3] == colour((try? stored(rig.dsn))?[3] ?? before) })
        #expect(try query(rig.dsn, "SELECT end_reason, ended_by_uid FROM overrides")[0] == ["auto", "\(getuid())"])

        // For two seconds: the sampler's tick ends it, and the LED follows.
        #expect(try cli(["override", "3", "--state", wanted, "--for", "2s", "--state-dir", rig.state]).status == 0)
        #expect(eventually(timeoutSeconds: 5) { rig.sim.downlink.ledBySensor[3] == .blue })
        #expect(eventually(timeoutSeconds: 10) {
            (try? query(rig.dsn, "SELECT end_reason FROM overrides ORDER BY id DESC LIMIT 1"))?.first?.first == "expired"
        })
        #expect(eventually(timeoutSeconds: 5) { rig.sim.downlink.ledBySensor[3] == colour((try? stored(rig.dsn))?[3] ?? before) })
        let expiry = try query(rig.dsn, """
            SELECT TIMESTAMPDIFF(MICROSECOND, set_at, expires_at) / 1000, TIMESTAMPDIFF(MICROSECOND, expires_at, ended_at) / 1000
            FROM overrides ORDER BY id DESC LIMIT 1
            """)[0]
        #expect(Double(expiry[0]!)! == 2_000)
        #expect(Double(expiry[1]!)! >= 0 && Double(expiry[1]!)! < 1_000, "ended within a sampler tick of its time")

        // Deduplicated and nothing lost: every command the daemon sent reached the gateway,
        // and none repeated the colour the LED already showed.
        #expect(eventually(timeoutSeconds: 5) { rig.sim.downlink.totalLEDCommands == rig.pipeline.snapshot().live?.leds_sent })
        #expect(rig.sim.downlink.repeatedLEDCommands == 0)
        #expect(rig.pipeline.snapshot().live?.downlink_queue_dropped == 0)
    }

    @Test("a sensor that goes silent shows AMBER once it is offline")
    func offlineIsAmber() throws {
        let rig = try rig("live_amber", misbehaving: true) { $0.alertRules.offlineAfterSeconds = 1.5 }
        defer { rig.stop() }
        let silent = try #require(rig.sim.misbehaviors.first { if case .silent = $0.kind { true } else { false } }?.sensor)
        #expect(eventually(timeoutSeconds: 20) { rig.sim.downlink.ledBySensor[silent] == .amber })
        #expect(rig.sim.downlink.ledBySensor.filter { $0.value == .amber }.keys.contains(silent))
    }

    @Test("watch streams a bay change as it is committed; --since replays exactly what the database holds, then goes on live")
    func watchReceivesBayChanges() throws {
        // ZONE_FILLING only for a full zone: a forecast moving after the gateway stops must not
        // raise alerts while the replay is compared with the database.
        let rig = try rig("live_watch", sensors: 10, rate: 5, timeScale: 600) { $0.alertRules.zoneFillingMinutes = 0 }
        defer { rig.stop() }
        let watch = try ChildProcess(Repository.parklinkExecutable, ["watch", "--json", "--state-dir", rig.state])
        var bay: [String: Any]?
        let deadline = Date().addingTimeInterval(30)
        while bay == nil, Date() < deadline, let line = watch.readLine(timeoutSeconds: 30) {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if object?["kind"] as? String == "bay" { bay = object }
        }
        watch.signal(SIGTERM)
        _ = watch.wait(timeoutSeconds: 10)
        let event = try #require(bay, "no bay change within 30 s: \(watch.output)")
        #expect(event["replayed"] as? Bool == false && event["zone"] as? String == "A")
        let sensor = try #require((event["sensor"] as? String)?.split(separator: "/").last.flatMap { UInt16($0) })
        let at = try #require(event["at"] as? String)
        let kind = event["event"] as? String
        let match = try query(rig.dsn, """
            SELECT COUNT(*) FROM occupancy_events
            WHERE sensor_id = \(sensor) AND at = '\(at.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: ""))'
              AND event = '\(kind ?? "")'
            """)[0][0]
        #expect(match == "1", "the streamed change is the committed one: \(event)")

        // Quiet: once bays have changed a good many times, the gateway stops, everything is
        // committed, and the zone stays as it is.
        #expect(eventually(timeoutSeconds: 30) {
            Int((try? query(rig.dsn, "SELECT COUNT(*) FROM occupancy_events"))?.first?.first.flatMap { $0 } ?? "0") ?? 0 > 20
        })
        rig.sim.stop()
        #expect(eventually(timeoutSeconds: 10) { rig.pipeline.snapshot().accounting.in_flight == 0 })
        Thread.sleep(forTimeInterval: 1)
        let replay = try ChildProcess(Repository.parklinkExecutable, ["watch", "--json", "--since", "1h", "--state-dir", rig.state])
        var lines: [[String: Any]] = []
        while let line = replay.readLine(timeoutSeconds: 3) {
            lines.append(try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
        }
        replay.signal(SIGTERM)
        _ = replay.wait(timeoutSeconds: 10)
        let counts = try query(rig.dsn, """
            SELECT (SELECT COUNT(*) FROM occupancy_events),
                   (SELECT COUNT(*) FROM alerts) + (SELECT COUNT(*) FROM alerts WHERE resolved_at IS NOT NULL),
                   (SELECT COUNT(*) FROM overrides)
            """)[0].map { Int($0 ?? "0")! }
        #expect(counts[0] > 10, "the gateway's bays really changed")
        #expect(lines.filter { $0["kind"] as? String == "bay" }.count == counts[0])
        #expect(lines.filter { $0["kind"] as? String == "alert" }.count == counts[1])
        #expect(lines.allSatisfy { $0["replayed"] as? Bool == true })
        let times = lines.compactMap { $0["at"] as? String }
        #expect(times == times.sorted(), "oldest first")

        // Through a pipe that closes early: each line leaves at once, and watch ends with it.
        let head = try ChildProcess("/bin/sh", ["-c", "'\(Repository.parklinkExecutable)' watch --since 1h --state-dir '\(rig.state)' | head -n 3"])
        #expect(head.wait(timeoutSeconds: 20) == 0)
        #expect(head.output.split(separator: "\n").count == 3 && head.output.contains("  bay  "))
    }

    @Test("ZONE_FULL while overrides fill a zone, resolved when a bay frees; SENSOR_FLAPPING for a bay that changes too often")
    func zoneFullAndFlapping() throws {
        let rig = try rig("live_alerts", sensors: 6, rate: 5, timeScale: 600, zone: [1, 2]) { $0.alertRules.flappingChangesPerMinute = 1 }
        defer { rig.stop() }
        let socket = rig.pipeline.options.state.statusSocket
        // Named with their gateway: the overrides may come before the first reading does.
        for s: UInt16 in [1, 2] { _ = try StatusClient.override(OverrideRequest(gateway: "SIM-01", sensor: s, state: .occupied), socket: socket) }
        func open(_ type: String) -> [[String?]] {
            (try? query(rig.dsn, "SELECT subject, severity FROM alerts WHERE type = '\(type)' AND resolved_at IS NULL")) ?? []
        }
        #expect(eventually(timeoutSeconds: 10) { open("ZONE_FULL") == [["zone:A", "info"]] })
        _ = try StatusClient.override(OverrideRequest(gateway: "SIM-01", sensor: 2, state: .free), socket: socket)
        #expect(eventually(timeoutSeconds: 10) { open("ZONE_FULL").isEmpty })
        #expect(try query(rig.dsn, "SELECT COUNT(*) FROM alerts WHERE type = 'ZONE_FULL' AND resolved_at IS NOT NULL")[0][0] == "1")
        // Bays changing every few seconds (time × 600) are more than once a minute.
        #expect(eventually(timeoutSeconds: 30) { !open("SENSOR_FLAPPING").isEmpty })
        let flapping = open("SENSOR_FLAPPING")
        #expect(flapping.allSatisfy { $0[1] == "warning" })
        let sensor = try #require(flapping.first?[0].flatMap { $0.split(separator: "/").last }.flatMap { UInt16($0) })
        let changes = try query(rig.dsn, "SELECT COUNT(*) FROM occupancy_events WHERE sensor_id = \(sensor)")[0][0]
        #expect(Int(changes ?? "0")! > 1, "it did change more than once")
    }

    @Test("status --watch: plain snapshots flushed into a pipe, no escapes; full screen within 80 columns on a terminal")
    func statusWatch() throws {
        let rig = try rig("live_statuswatch", sensors: 4)
        defer { rig.stop() }
        #expect(eventually(timeoutSeconds: 10) { rig.pipeline.sampler!.completedRuns > 1 })
        let exe = Repository.parklinkExecutable
        // The first snapshot arrives while the command still runs: not held in a buffer.
        let piped = try ChildProcess(exe, ["status", "--watch", "0.5", "--state-dir", rig.state])
        #expect(piped.readLine(timeoutSeconds: 10)?.hasPrefix("parklink (pid ") == true)
        Thread.sleep(forTimeInterval: 1.5)
        piped.signal(SIGTERM)
        _ = piped.wait(timeoutSeconds: 10)
        #expect(!piped.output.contains("\u{1B}"), "no escapes into a pipe or a file")
        #expect(piped.output.components(separatedBy: "\nparklink (pid ").count >= 3, "repeated snapshots: \(piped.output)")
        let head = try ChildProcess("/bin/sh", ["-c", "'\(exe)' status --watch 2 --state-dir '\(rig.state)' | head -n 3"])
        #expect(head.wait(timeoutSeconds: 10) == 0, "head got its lines within one refresh, and status ended with the pipe")
        #expect(head.output.hasPrefix("parklink (pid ") && head.output.split(separator: "\n", omittingEmptySubsequences: false).count == 4)
        // On a terminal (a real pty, through script(1)): clear + home, and no line wider than 80.
        let tty = try ChildProcess("script", ["-qfc", "'\(exe)' status --watch 0.5 --state-dir '\(rig.state)'", "/dev/null"],
                                   standardInput: .pipe)
        Thread.sleep(forTimeInterval: 2)
        tty.signal(SIGTERM)
        _ = tty.wait(timeoutSeconds: 10)
        let screen = tty.output
        #expect(screen.contains("\u{1B}[H\u{1B}[2J"), "\(screen.prefix(200).debugDescription)")
        let lines = screen.replacingOccurrences(of: "\u{1B}[H\u{1B}[2J", with: "\n").replacingOccurrences(of: "\r", with: "")
            .split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("LINK   UP") } && lines.contains { $0.hasPrefix("ZONE") })
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(lines.filter { $0.count > 80 })")
    }
}
