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
}
