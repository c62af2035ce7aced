import Logging
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkSystem
import Testing

/// What the writer stores for gaps once it knows what an earlier run stored: after a run
/// that was killed, a stretch only the stored readings reveal to be that run's loss is an
/// appliance_restart gap, never a link gap.
@Suite("Writer: gaps after an appliance restart")
struct ReadingWriterRestartTests {
    let key = SessionKey(gatewayId: "GW-01", bootId: 0x9F3A_11C2)

    /// A sink that stores nothing but the link events, and says where `stored` sessions end.
    final class EventSink: BatchSink, @unchecked Sendable {
        // @unchecked: written on the writer thread, read after it has been joined.
        let stored: [SessionKey: UInt64]
        var events: [LinkEvent] = []
        init(stored: [SessionKey: UInt64]) { self.stored = stored }
        func connect(within limit: Duration?) throws {}
        func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int {
            self.events += events
            return rows.count
        }
        func disconnect() {}
        func classify(_ error: any Error) -> WriteFailure { .connectionLost }
        func storedResumePoints() throws -> [SessionKey: UInt64] { stored }
    }

    struct Outcome {
        var stored: [LinkEvent]
        var retracted: [(Int, GapReason)]
        var restartGaps: [(SessionKey, UInt32, Int, Bool)]
    }

    /// Runs a writer over `queued` events (and one reading, so it has a batch to write)
    /// until it has committed everything.
    func run(queued: [LinkEvent], stored: [SessionKey: UInt64], cleanly: Bool,
             spooledFrom: [SessionKey: UInt64] = [:]) -> Outcome {
        let sessions = SessionTable()
        let ring = RingBuffer<StampedReading>(capacity: 16)
        let queue = LinkEventQueue()
        for e in queued { queue.append(e) }
        var config = ReadingWriter.Config()
        config.lastRunStoppedCleanly = cleanly
        config.spooledFrom = spooledFrom
        let sink = EventSink(stored: stored)
        var logger = Logger(label: "writer-restart-test")
        logger.logLevel = .critical
        let writer = ReadingWriter(config: config, ring: ring, events: queue, counters: StoreCounters(), logger: logger,
                                   makeSink: { sink }, sessions: sessions)
        let retracted = Locked<[(Int, GapReason)]>([])
        let restart = Locked<[(SessionKey, UInt32, Int, Bool)]>([])
        writer.onGapRetracted = { n, reason in retracted.withLock { $0.append((n, reason)) } }
        writer.onRestartGap = { k, first, n, fromLink in restart.withLock { $0.append((k, first, n, fromLink)) } }
        _ = ring.push([StampedReading(session: sessions.index(for: key), receivedAtMs: 1,
                                      reading: Reading(seq: 900, sensor: 1, gatewayMs: 1, occupied: false))])
        writer.start()
        writer.finish()
        return Outcome(stored: sink.events, retracted: retracted.withLock { $0 }, restartGaps: restart.withLock { $0 })
    }

    @Test("after an unclean stop, a link gap the reader counted from 0 (no resume points) becomes an appliance_restart gap after the stored seqs")
    func reclassifiedAfterUncleanStop() {
        let out = run(queued: [.gap(key, firstMissing: 0, count: 130, atMs: 5)], stored: [key: 100], cleanly: false)
        #expect(out.stored == [.gap(key, firstMissing: 100, count: 30, atMs: 5, reason: .applianceRestart)])
        #expect(out.retracted.map(\.0) == [100] && out.retracted.map(\.1) == [.link], "0…99 are stored: not missing")
        #expect(out.restartGaps.count == 1)
        #expect(out.restartGaps.first.map { $0.0 == key && $0.1 == 100 && $0.2 == 30 && $0.3 } == true,
                "taken off the link's figures, given to the restart's")
    }

    @Test("after a clean stop, the same gap stays a link gap, trimmed to the seqs not stored")
    func linkGapAfterCleanStop() {
        let out = run(queued: [.gap(key, firstMissing: 0, count: 130, atMs: 5)], stored: [key: 100], cleanly: true)
        #expect(out.stored == [.gap(key, firstMissing: 100, count: 30, atMs: 5, reason: .link)])
        #expect(out.restartGaps.isEmpty)
    }

    @Test("a gap after the stored seqs is left as the reader said, whatever the last run did")
    func laterGapsUntouched() {
        let gaps: [LinkEvent] = [.gap(key, firstMissing: 150, count: 3, atMs: 5),
                                 .gap(key, firstMissing: 100, count: 20, atMs: 5, reason: .applianceRestart)]
        let out = run(queued: gaps, stored: [key: 100], cleanly: false)
        #expect(out.stored == gaps)
        #expect(out.retracted.isEmpty && out.restartGaps.isEmpty)
    }

    @Test("after an unclean stop, readings between the stored ones and the first spooled one (the dead run's ring) are an appliance_restart gap")
    func ringInFrontOfSpool() throws {
        let other = SessionKey(gatewayId: "GW-02", bootId: 7)
        let out = run(queued: [], stored: [key: 100, other: 50], cleanly: false, spooledFrom: [key: 160, other: 20])
        #expect(out.stored.count == 1, "GW-02's spool starts inside what is stored: nothing missing there")
        guard case .gap(let k, let first, let count, _, let reason)? = out.stored.first else {
            Issue.record("no gap stored")
            return
        }
        #expect(k == key && first == 100 && count == 60 && reason == .applianceRestart)
        #expect(out.restartGaps.map(\.2) == [60] && out.restartGaps.map(\.3) == [false])
    }

    @Test("after a clean stop the spool's start says nothing: no gap")
    func noSpoolHoleAfterCleanStop() {
        let out = run(queued: [], stored: [key: 100], cleanly: true, spooledFrom: [key: 160])
        #expect(out.stored.isEmpty)
    }
}
