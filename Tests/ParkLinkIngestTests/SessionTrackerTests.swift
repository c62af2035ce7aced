import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkStore
import Testing

@Suite("Session and seq tracking")
struct SessionTrackerTests {
    let hello = Hello(gatewayId: "GW-01", bootId: 0x9F3A_11C2, firmware: .init(major: 1, minor: 0, patch: 0), sensorCount: 48)
    var key: SessionKey { SessionKey(gatewayId: "GW-01", bootId: 0x9F3A_11C2) }

    func reading(_ seq: UInt32) -> Reading {
        Reading(seq: seq, sensor: UInt16(seq % 500), gatewayMs: seq &* 10, occupied: seq % 2 == 0)
    }

    @Test("contiguous seqs after a HELLO are all accepted, with no gap")
    func contiguous() {
        let table = SessionTable()
        var t = SessionTracker(sessions: table)
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        for s in 0..<100 { t.reading(reading(UInt32(s)), atMs: 2, effects: &e) }
        #expect(e.ready.count == 100)
        #expect(e.gaps == 0)
        #expect(e.events == [.session(key, hello: hello, atMs: 1)])
        #expect(e.ready.allSatisfy { table.key(for: $0.session) == key })
    }

    @Test("a jump in seq is one gap with its first missing seq and count")
    func gap() {
        var t = SessionTracker(sessions: SessionTable())
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        for s: UInt32 in [0, 1, 2, 10, 11] { t.reading(reading(s), atMs: 5, effects: &e) }
        #expect(e.ready.map(\.reading.seq) == [0, 1, 2, 10, 11])
        #expect(e.gaps == 1)
        #expect(e.missingReadings == 7)
        #expect(e.events.last == .gap(key, firstMissing: 3, count: 7, atMs: 5))
    }

    @Test("a session whose first reading is not seq 0 records the readings before it as missing")
    func firstReadingLate() {
        var t = SessionTracker(sessions: SessionTable())
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        t.reading(reading(40), atMs: 2, effects: &e)
        #expect(e.events.last == .gap(key, firstMissing: 0, count: 40, atMs: 2))
    }

    @Test("a resumed session continues where the database left off, with no false gap")
    func resume() {
        var t = SessionTracker(sessions: SessionTable(), resume: [key: 500])
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        t.reading(reading(500), atMs: 2, effects: &e)
        #expect(e.gaps == 0)
        #expect(e.ready.count == 1)
    }

    @Test("a heartbeat's next_seq reveals loss at the tail of a quiet stream")
    func heartbeatTailLoss() {
        var t = SessionTracker(sessions: SessionTable())
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        t.reading(reading(0), atMs: 2, effects: &e)
        t.heartbeat(Heartbeat(nextSeq: 4, uptimeMs: 1000, txDropped: 2), atMs: 3, effects: &e)
        #expect(e.events.last == .gap(key, firstMissing: 1, count: 3, atMs: 3))
        #expect(t.gatewayTxDropped == 2)
        t.reading(reading(4), atMs: 4, effects: &e)
        #expect(e.gaps == 1)
    }

    @Test("an announced reboot starts a new session at seq 0")
    func announcedReboot() {
        let table = SessionTable()
        var t = SessionTracker(sessions: table)
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        for s: UInt32 in 0..<5 { t.reading(reading(s), atMs: 2, effects: &e) }
        var h2 = hello
        h2.bootId = 0x0000_0002
        t.hello(h2, atMs: 3, effects: &e)
        for s: UInt32 in 0..<3 { t.reading(reading(s), atMs: 4, effects: &e) }
        #expect(e.ready.count == 8)
        #expect(e.gaps == 0)
        #expect(table.key(for: e.ready.last!.session) == SessionKey(gatewayId: "GW-01", bootId: 2))
    }

    @Test("seq going back without a HELLO holds readings, asks for a PING, and gives them the next HELLO's boot")
    func unannouncedRebootThenHello() {
        let table = SessionTable()
        var t = SessionTracker(sessions: table)
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        for s: UInt32 in 0..<10 { t.reading(reading(s), atMs: 2, effects: &e) }
        e.clear()
        t.reading(reading(0), atMs: 3, effects: &e)
        t.reading(reading(1), atMs: 3, effects: &e)
        #expect(e.ready.isEmpty)
        #expect(e.wantsPing)
        #expect(e.unannouncedReboots == 1)
        #expect(t.pendingCount == 2)
        var h2 = hello
        h2.bootId = 77
        t.hello(h2, atMs: 4, effects: &e)
        #expect(e.ready.map(\.reading.seq) == [0, 1])
        #expect(e.ready.allSatisfy { table.key(for: $0.session).bootId == 77 })
        #expect(e.ready.allSatisfy { $0.receivedAtMs == 3 })
        #expect(e.gaps == 0)
    }

    @Test("readings no HELLO claims get a synthetic session after the time-out instead of being lost")
    func syntheticSession() {
        let table = SessionTable()
        var config = SessionTracker.Config()
        config.helloTimeoutMs = 100
        config.fallbackGatewayId = "GW-X"
        var t = SessionTracker(sessions: table, config: config)
        var e = SessionTracker.Effects()
        t.reading(reading(0), atMs: 1_000, effects: &e)
        t.reading(reading(1), atMs: 1_010, effects: &e)
        t.tick(nowMs: 1_050, effects: &e)
        #expect(e.ready.isEmpty)
        t.tick(nowMs: 1_200, effects: &e)
        #expect(e.ready.map(\.reading.seq) == [0, 1])
        let k = table.key(for: e.ready[0].session)
        #expect(k.gatewayId == "GW-X")
        #expect(e.events.contains(.session(k, hello: nil, atMs: 1_200)))
    }

    @Test("at shutdown, readings still waiting for a HELLO are handed over, not dropped")
    func shutdownFlush() {
        var t = SessionTracker(sessions: SessionTable())
        var e = SessionTracker.Effects()
        t.reading(reading(0), atMs: 1, effects: &e)
        t.flushForShutdown(nowMs: 2, effects: &e)
        #expect(e.ready.count == 1)
        #expect(t.pendingCount == 0)
    }

    @Test("past maxPending, readings waiting for a HELLO are dropped and counted")
    func pendingOverflowCounted() {
        var config = SessionTracker.Config()
        config.maxPending = 3
        var t = SessionTracker(sessions: SessionTable(), config: config)
        var e = SessionTracker.Effects()
        for s: UInt32 in 0..<5 { t.reading(reading(s), atMs: 1, effects: &e) }
        #expect(t.pendingCount == 3)
        #expect(e.droppedNoSession == 2)
    }

    @Test("seq 4294967295 is accepted and does not overflow the tracker")
    func maxSeq() {
        var t = SessionTracker(sessions: SessionTable())
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        t.reading(reading(UInt32.max - 1), atMs: 2, effects: &e)
        t.reading(reading(UInt32.max), atMs: 2, effects: &e)
        #expect(e.ready.count == 2)
        #expect(e.gaps == 1)
    }

    @Test("a HELLO that comes after a synthetic session took over goes on from its seq: no false gap")
    func lateHelloAfterSyntheticSession() {
        let table = SessionTable()
        var config = SessionTracker.Config()
        config.helloTimeoutMs = 100
        var t = SessionTracker(sessions: table, config: config)
        var e = SessionTracker.Effects()
        for s: UInt32 in 500..<503 { t.reading(reading(s), atMs: 1_000, effects: &e) }
        t.tick(nowMs: 1_200, effects: &e)
        #expect(e.ready.count == 3)
        e.clear()
        t.hello(hello, atMs: 1_300, effects: &e)
        t.heartbeat(Heartbeat(nextSeq: 503, uptimeMs: 9, txDropped: 4), atMs: 1_300, effects: &e)
        t.reading(reading(503), atMs: 1_400, effects: &e)
        #expect(e.gaps == 0, "readings 500…502 are stored under the synthetic id, not missing")
        #expect(table.key(for: e.ready.last!.session) == key)
        #expect(t.gatewayTxDropped == 4, "the running tx_dropped total is not counted twice")
    }

    @Test("a heartbeat that reveals a reboot does not erase the old boot's tx_dropped")
    func rebootHeartbeatKeepsTxDropped() {
        var t = SessionTracker(sessions: SessionTable())
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        for s: UInt32 in 0..<10 { t.reading(reading(s), atMs: 2, effects: &e) }
        t.heartbeat(Heartbeat(nextSeq: 10, uptimeMs: 5, txDropped: 7), atMs: 3, effects: &e)
        t.heartbeat(Heartbeat(nextSeq: 2, uptimeMs: 1, txDropped: 0), atMs: 4, effects: &e)
        #expect(e.unannouncedReboots == 1)
        #expect(t.gatewayTxDropped == 7)
    }

    // MARK: - After a run that did not stop cleanly

    @Test("after an unclean stop, the first gap of a session the last run knew is an appliance_restart gap, not a link gap")
    func restartGapAfterUncleanStop() {
        var t = SessionTracker(sessions: SessionTable(), resume: [key: 500], lastRunStoppedCleanly: false)
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        t.reading(reading(520), atMs: 2, effects: &e)
        #expect(e.events.last == .gap(key, firstMissing: 500, count: 20, atMs: 2, reason: .applianceRestart),
                "500…519 died in the killed run's memory")
        #expect(e.restartGaps == 1 && e.restartMissingReadings == 20)
        #expect(e.gaps == 0 && e.missingReadings == 0, "the link lost nothing")
        t.reading(reading(530), atMs: 3, effects: &e)
        #expect(e.events.last == .gap(key, firstMissing: 521, count: 9, atMs: 3, reason: .link), "later jumps are the link's")
        #expect(e.gaps == 1 && e.restartGaps == 1)
    }

    @Test("after a clean stop, the same jump is a link gap")
    func linkGapAfterCleanStop() {
        var t = SessionTracker(sessions: SessionTable(), resume: [key: 500])
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        t.reading(reading(520), atMs: 2, effects: &e)
        #expect(e.events.last == .gap(key, firstMissing: 500, count: 20, atMs: 2, reason: .link))
        #expect(e.restartGaps == 0)
    }

    @Test("after an unclean stop, a session heard again exactly where it was stored lost nothing: its next jump is a link gap")
    func noRestartGapWhenNothingWasLost() {
        var t = SessionTracker(sessions: SessionTable(), resume: [key: 500], lastRunStoppedCleanly: false)
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        t.reading(reading(500), atMs: 2, effects: &e)
        t.reading(reading(510), atMs: 3, effects: &e)
        #expect(e.events.last == .gap(key, firstMissing: 501, count: 9, atMs: 3, reason: .link))
        #expect(e.restartGaps == 0)
    }

    @Test("after an unclean stop, a heartbeat heard before any reading can show the restart gap")
    func restartGapFromHeartbeat() {
        var t = SessionTracker(sessions: SessionTable(), resume: [key: 500], lastRunStoppedCleanly: false)
        var e = SessionTracker.Effects()
        t.hello(hello, atMs: 1, effects: &e)
        t.heartbeat(Heartbeat(nextSeq: 540, uptimeMs: 9, txDropped: 0), atMs: 2, effects: &e)
        #expect(e.events.last == .gap(key, firstMissing: 500, count: 40, atMs: 2, reason: .applianceRestart))
        t.reading(reading(545), atMs: 3, effects: &e)
        #expect(e.events.last == .gap(key, firstMissing: 540, count: 5, atMs: 3, reason: .link))
    }

    @Test("after an unclean stop, readings held for the HELLO are judged against the resume point once it comes")
    func restartGapAfterHeldReadings() {
        var t = SessionTracker(sessions: SessionTable(), resume: [key: 500], lastRunStoppedCleanly: false)
        var e = SessionTracker.Effects()
        for s: UInt32 in 600..<603 { t.reading(reading(s), atMs: 1, effects: &e) }
        #expect(e.ready.isEmpty && e.wantsPing)
        t.hello(hello, atMs: 2, effects: &e)
        #expect(e.ready.map(\.reading.seq) == [600, 601, 602])
        #expect(e.events.last == .gap(key, firstMissing: 500, count: 100, atMs: 1, reason: .applianceRestart))
    }

    @Test("after an unclean stop, a boot the last run did not know has only link gaps")
    func unknownSessionAfterUncleanStop() {
        var t = SessionTracker(sessions: SessionTable(), resume: [key: 500], lastRunStoppedCleanly: false)
        var e = SessionTracker.Effects()
        var h2 = hello
        h2.bootId = 42
        t.hello(h2, atMs: 1, effects: &e)
        t.reading(reading(5), atMs: 2, effects: &e)
        #expect(e.events.last == .gap(SessionKey(gatewayId: "GW-01", bootId: 42), firstMissing: 0, count: 5, atMs: 2, reason: .link))
        #expect(e.restartGaps == 0)
    }

    // MARK: - The session limit

    func limited(_ maxSessions: Int, table: SessionTable = SessionTable()) -> SessionTracker {
        var config = SessionTracker.Config()
        config.maxSessions = maxSessions
        config.helloTimeoutMs = 100
        return SessionTracker(sessions: table, config: config)
    }

    func boot(_ id: UInt32, gateway: String = "GW-01") -> Hello {
        Hello(gatewayId: gateway, bootId: id, firmware: .init(major: 1, minor: 0, patch: 0), sensorCount: 48)
    }

    @Test("past max_sessions a new session is refused: its readings are dropped and counted, and nothing of it is recorded")
    func sessionLimitRefusesNewSessions() {
        let table = SessionTable()
        var t = limited(2, table: table)
        var e = SessionTracker.Effects()
        t.hello(boot(1), atMs: 1, effects: &e)
        t.reading(reading(0), atMs: 1, effects: &e)
        t.hello(boot(2), atMs: 2, effects: &e)
        t.reading(reading(0), atMs: 2, effects: &e)
        e.clear()
        t.hello(boot(3), atMs: 3, effects: &e)
        for s: UInt32 in 0..<5 { t.reading(reading(s), atMs: 3, effects: &e) }
        t.heartbeat(Heartbeat(nextSeq: 9, uptimeMs: 1, txDropped: 0), atMs: 3, effects: &e)
        #expect(e.ready.isEmpty)
        #expect(e.droppedSessionLimit == 5)
        #expect(e.sessionsRefused == 1)
        #expect(e.events.isEmpty, "no session row, no gap for a session whose readings are not kept")
        #expect(!e.wantsPing)
        #expect(table.count == 2)
        #expect(t.currentSession == nil && t.refusedSession == SessionKey(gatewayId: "GW-01", bootId: 3))
        // The same refused boot announcing itself again is not a second refusal.
        t.hello(boot(3), atMs: 4, effects: &e)
        #expect(e.sessionsRefused == 1)
        // A session the table knows is taken again, where it left off.
        t.hello(boot(1), atMs: 5, effects: &e)
        t.reading(reading(1), atMs: 5, effects: &e)
        #expect(e.ready.map(\.reading.seq) == [1])
        #expect(table.key(for: e.ready[0].session) == SessionKey(gatewayId: "GW-01", bootId: 1))
        #expect(e.gaps == 0)
        #expect(t.refusedSession == nil)
    }

    @Test("readings held for a HELLO go with a refused session, counted; a refused synthetic session too")
    func sessionLimitDropsHeldReadings() {
        var t = limited(1)
        var e = SessionTracker.Effects()
        t.hello(boot(1), atMs: 1, effects: &e)
        for s: UInt32 in 0..<10 { t.reading(reading(s), atMs: 1, effects: &e) }
        // Seq goes back with no HELLO: held, then the HELLO names a boot there is no room for.
        for s: UInt32 in 0..<3 { t.reading(reading(s), atMs: 2, effects: &e) }
        #expect(t.pendingCount == 3)
        t.hello(boot(2), atMs: 3, effects: &e)
        #expect(t.pendingCount == 0)
        #expect(e.droppedSessionLimit == 3)
        // Back to the known boot, then an unannounced reboot no HELLO ever names.
        t.hello(boot(1), atMs: 4, effects: &e)
        for s: UInt32 in 0..<2 { t.reading(reading(s), atMs: 5, effects: &e) }
        t.tick(nowMs: 1_000, effects: &e)
        #expect(t.pendingCount == 0)
        #expect(e.droppedSessionLimit == 5)
        #expect(e.sessionsRefused == 2)
        #expect(e.ready.count == 10)
    }

    @Test("a gateway changing its boot id on every reading cannot grow the table past the limit; every reading is kept or counted")
    func sessionLimitBoundsMemory() {
        let table = SessionTable()
        var t = limited(64, table: table)
        var e = SessionTracker.Effects()
        var kept = 0, dropped = 0
        for i in 0..<100_000 {
            t.hello(boot(UInt32(i), gateway: i % 2 == 0 ? "GW-01" : "GW-\(i % 1_000)"), atMs: Int64(i), effects: &e)
            t.reading(reading(0), atMs: Int64(i), effects: &e)
            kept += e.ready.count
            dropped += e.droppedSessionLimit
            e.clear()
        }
        #expect(table.count == 64)
        #expect(kept == 64 && dropped == 100_000 - 64)
        // The spool's readings (an earlier run's) are not refused: they exist and must be stored.
        _ = table.index(for: SessionKey(gatewayId: "GW-SPOOL", bootId: 1))
        #expect(table.count == 65)
        #expect(table.admit(SessionKey(gatewayId: "GW-NEW", bootId: 1), limit: 64) == nil)
    }
}
