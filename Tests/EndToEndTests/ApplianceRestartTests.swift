import Foundation
import ParkLinkAnalytics
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// "Nothing lost, whatever fails", when what fails is the appliance itself or the gateway's
/// idea of who it is: a `parklink run` killed mid-stream accounts, at its next start, for
/// what died in its memory; a gateway that keeps changing its boot id cannot grow the
/// appliance's memory, and what it is refused is counted.
@Suite("Appliance restart and session limit", .serialized, .timeLimit(.minutes(6)))
struct ApplianceRestartTests {
    @Test("parklink run SIGKILLed mid-stream: at restart, what it held shows as an appliance_restart gap, never a link gap")
    func sigkillMidStream() throws {
        let dsn = try TestDatabase.newDatabase("e2e_kill")
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "2000", "--count", "24000", "--sensors", "200", "--seed", "13",
        ])
        let state = Repository.temporaryDirectory("plkill")
        // A writer that commits once a second, so that the kill finds up to a second of
        // readings in its memory; a HELLO time-out no loaded test machine can miss (after
        // the restart the gateway's HELLO comes behind the backlog it queued meanwhile).
        let config = state + "/parklink.toml"
        try """
            [link]
            hello_timeout_ms = 15000
            [pipeline]
            batch_linger_ms = 1000
            batch_max_rows = 50000
            """.write(toFile: config, atomically: true, encoding: .utf8)
        func daemon() throws -> ChildProcess {
            try ChildProcess(Repository.parklinkExecutable, [
                "run", "--device", gateway.devicePath, "--framing", "binary", "--db", dsn.description,
                "--state-dir", state, "--config", config, "--log-level", "notice",
            ], standardError: .merge)
        }
        let socket = StateDirectory(path: state).statusSocket
        let marker = StateDirectory(path: state).runningMarker

        let first = try daemon()
        #expect(eventually(timeoutSeconds: 30) { ((try? StatusClient.status(socket: socket))?.store.rows_committed ?? 0) >= 4_000 })
        #expect(try StatusClient.status(socket: socket).last_run_stopped_cleanly, "a first run has nothing to account for")
        #expect(FileManager.default.fileExists(atPath: marker), "a running daemon has its marker")
        first.signal(SIGKILL)
        #expect(first.wait(timeoutSeconds: 30) != nil)
        #expect(FileManager.default.fileExists(atPath: marker), "a killed run leaves its marker behind")

        let second = try daemon()
        let manifest = try gateway.finish()
        #expect(manifest.drained, "the gateway saw the second run read everything it sent")
        var settled: StatusSnapshot?
        #expect(eventually(timeoutSeconds: 30) {
            guard let s = try? StatusClient.status(socket: socket) else { return false }
            settled = s
            return s.accounting.in_flight == 0 && s.accounting.balanced && s.store.rows_committed > 0
        })
        let status = try #require(settled)
        second.signal(SIGTERM)
        #expect(second.wait(timeoutSeconds: 60) == 0, "SIGTERM: drained, committed, exit 0")
        #expect(!FileManager.default.fileExists(atPath: marker), "a clean stop removes the marker")

        // The database: no link gap, and every reading the gateway sent is stored or
        // inside an appliance_restart gap, exactly one of the two.
        #expect(try query(dsn, "SELECT COUNT(*) FROM link_gaps WHERE reason = 'link'")[0][0] == "0", "the link lost nothing")
        let gaps = try query(dsn, """
            SELECT boot_id, first_missing_seq, missing_count FROM link_gaps WHERE reason = 'appliance_restart'
            """).map { (boot: UInt32($0[0]!)!, first: UInt32($0[1]!)!, count: Int($0[2]!)!) }
        #expect(!gaps.isEmpty, "the kill found readings in the writer's batch")
        let lost = gaps.reduce(0) { $0 + $1.count }
        let stored = try storedReadings(dsn)
        #expect(Set(stored).count == stored.count, "no reading stored twice")
        let storedKeys = Set(stored.map { "\($0.boot_id)/\($0.seq)" })
        for r in manifest.readings {
            let inGap = gaps.contains { $0.boot == r.boot_id && r.seq >= $0.first && Int(r.seq) < Int($0.first) + $0.count }
            #expect(storedKeys.contains("\(r.boot_id)/\(r.seq)") != inGap,
                    "seq \(r.seq) is either stored or in an appliance_restart gap, not both, not neither")
        }
        #expect(stored.count + lost == manifest.readings.count)
        #expect(Set(stored).isSubset(of: Set(manifest.readings)), "every stored reading is one the gateway sent, unchanged")

        // The second run's status says so, apart from the link's own figures.
        #expect(!status.last_run_stopped_cleanly)
        #expect(status.link.appliance_restart_readings == lost)
        #expect(status.link.appliance_restart_gaps == gaps.count)
        #expect(status.link.gaps == 0 && status.link.missing_readings == 0)

        // And so does its log: the last run was killed, then how many readings it lost.
        let log = second.output
        #expect(log.contains("the last run did not stop cleanly"))
        #expect(log.contains("readings lost with the last run") && log.contains("gap.count=\(lost)"), "\(log.suffix(2_000))")
    }

    @Test("a gateway that keeps rebooting past max_sessions: new sessions refused, their readings counted, the sums balance")
    func sessionLimit() throws {
        let dsn = try TestDatabase.newDatabase("e2e_limit")
        let gateway = try IndependentGateway(arguments: [
            "--framing", "text", "--rate", "4000", "--count", "8000", "--sensors", "100", "--seed", "17",
            "--reboot-at", "1000", "--reboot-at", "2000", "--reboot-at", "3000",  // boots of 1,000, 2,000, 3,000, 2,000
        ])
        let pipeline = try makePipeline(device: gateway.devicePath, framing: .text, dsn: dsn) { $0.maxSessions = 2 }
        try pipeline.start()
        let manifest = try gateway.finish()
        #expect(manifest.sessions.count == 4)
        #expect(eventually(timeoutSeconds: 20) {
            let s = pipeline.snapshot()
            return s.accounting.in_flight == 0 && s.accounting.balanced
        })
        let status = pipeline.snapshot()
        let alerts = AlertRules().conditions(for: pipeline.alertCounters(), previous: nil)
        #expect(pipeline.stop() == 0)

        let admitted = Set(manifest.sessions.prefix(2).map(\.boot_id))
        let kept = manifest.readings.filter { admitted.contains($0.boot_id) }
        #expect(try storedReadings(dsn) == kept.sorted { $0.sortKey < $1.sortKey }, "the first two boots, every reading")
        #expect(status.link.sessions == 2 && status.link.max_sessions == 2)
        #expect(status.link.sessions_refused == 2)
        #expect(status.link.dropped_session_limit == manifest.readings.count - kept.count)
        #expect(status.accounting.dropped_session_limit == status.link.dropped_session_limit)
        #expect(status.accounting.readings_accepted == manifest.readings.count)
        #expect(status.accounting.balanced, "accepted = committed + dropped_session_limit")
        #expect(alerts.contains { $0.type == .sessionLimit && $0.subject == .link })
        let sessions = try query(dsn, "SELECT boot_id FROM gateway_sessions").map { UInt32($0[0]!)! }
        #expect(Set(sessions) == admitted, "a refused session leaves no row")
        #expect(try query(dsn, "SELECT COUNT(*) FROM link_gaps")[0][0] == "0")
    }
}
