import Foundation
import ParkLinkDaemon
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkTestSupport
import Testing

/// A stop while the database cannot take anything: it ends by its deadline, and what the
/// appliance knew (readings, and the sessions and gaps they belong to) waits on disk for
/// the next start. Each test has a MariaDB server of its own.
@Suite("Shutdown with the database away: bounded, and nothing forgotten", .serialized, .timeLimit(.minutes(5)))
struct ShutdownEndToEndTests {
    @Test("a gateway reboot and a seq gap seen while the database is down are stored by the next start")
    func linkEventsOutliveTheStop() throws {
        let (server, dsn) = try privateServer("stop_events")
        defer { try? server.destroy() }
        // 4,000/s: the gap (seqs 12,000–12,009 never sent) at about 3 s, the reboot at 4 s.
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "4000", "--count", "24000", "--sensors", "100", "--seed", "8",
            "--gap-at", "12000", "--gap-len", "10", "--reboot-at", "16000",
        ])
        let state = Repository.temporaryDirectory("plstopevents")
        func pipeline() throws -> Pipeline {
            try makePipeline(device: gateway.devicePath, framing: .binary, dsn: dsn, stateDirectory: state)
        }
        let first = try pipeline()
        try first.start()
        #expect(eventually(timeoutSeconds: 10) { first.storeCounters.rowsCommitted.value > 2_000 })
        try server.killServer()
        // Both happen while nothing can be committed.
        #expect(eventually(timeoutSeconds: 20) { first.linkCounters.gaps.value >= 1 && first.linkCounters.hellos.value >= 2 })
        #expect(first.stop() == 0, "nothing abandoned")
        let kept = PendingLinkEvents(path: state + "/spool/link-events").load()
        #expect(kept.unreadableLines == 0)
        #expect(kept.events.contains { if case .gap(_, 12_000, 10, _, .link) = $0 { true } else { false } },
                "the gap is kept on disk")
        #expect(kept.events.contains { if case .session(_, .some, _) = $0 { true } else { false } },
                "the new session is kept on disk")

        _ = try server.start()
        let second = try pipeline()
        #expect(second.spool?.recovery.linkEvents.events.count == kept.events.count, "the next start finds them")
        try drainThenStop(second, gateway)

        let gaps = try query(dsn, "SELECT first_missing_seq, missing_count, reason FROM link_gaps")
        // (Between the two runs nobody reads the pty and the gateway drops what does not
        // fit its buffer: those are gaps of the second run, seen on the wire as usual.)
        #expect(gaps.map { $0.compactMap { $0 } }.contains(["12000", "10", "link"]), "the gap seen while the database was down")
        let sessions = try query(dsn, "SELECT COUNT(*) FROM gateway_sessions WHERE synthetic = 0")[0][0]
        #expect(sessions == "2", "both boots of the gateway")
        #expect(!FileManager.default.fileExists(atPath: state + "/spool/link-events"), "removed once stored")
        // Every reading of both sessions: stored or inside the gap.
        let stored = try storedReadings(dsn)
        #expect(Set(stored).count == stored.count)
        #expect(stored.count == first.linkCounters.readings.value + second.linkCounters.readings.value)
    }

    @Test("SIGTERM while the server is stalled: the stop ends by its grace period, not the 30-s read timeout, and nothing is lost")
    func stallCutAtTheDeadline() throws {
        let (server, dsn) = try privateServer("stop_stall")
        defer { try? server.destroy() }
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "4000", "--count", "16000", "--sensors", "100", "--seed", "9",
        ])
        let state = Repository.temporaryDirectory("plstopstall")
        func pipeline() throws -> Pipeline {
            try makePipeline(device: gateway.devicePath, framing: .binary, dsn: dsn, stateDirectory: state) {
                $0.shutdownGraceSeconds = 2
            }
        }
        let first = try pipeline()
        try first.start()
        #expect(eventually(timeoutSeconds: 10) { first.storeCounters.rowsCommitted.value > 2_000 })
        // Every write now waits for the lock, for ever on the server's side.
        let lock = try Connections.open(dsn, profile: .tool)
        _ = try lock.execute("FLUSH TABLES WITH READ LOCK")
        #expect(eventually(timeoutSeconds: 10) { first.snapshot().accounting.in_flight > 0 }, "a batch is stuck in the server")
        let asked = ContinuousClock.now
        #expect(first.stop() == 0, "nothing abandoned")
        let took = ContinuousClock.now - asked
        #expect(took < .seconds(15), "the stop took \(took): the attempt in flight was not cut at the deadline")
        #expect((first.spool?.pending ?? 0) > 0, "the stuck batch is in the spool")
        _ = try lock.execute("UNLOCK TABLES")
        lock.close()

        let second = try pipeline()
        try drainThenStop(second, gateway)
        let stored = try storedReadings(dsn)
        #expect(Set(stored).count == stored.count, "the cut batch is not stored twice")
        #expect(stored.count == first.linkCounters.readings.value + second.linkCounters.readings.value, "0 lost")
    }

    /// Starts the next run, lets the gateway finish, waits until the spool is written and
    /// every reading accounted for, and stops it cleanly.
    func drainThenStop(_ run: Pipeline, _ gateway: IndependentGateway) throws {
        try run.start()
        _ = try gateway.finish()
        #expect(eventually(timeoutSeconds: 60) {
            let s = run.snapshot()
            return run.spool?.pending == 0 && s.accounting.in_flight == 0 && s.accounting.balanced
        })
        #expect(run.stop() == 0)
    }
}
