import Logging
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkSystem
import Testing

/// What the sink holds back (debounced occupancy changes) is written when it is due even if
/// no reading comes, and all of it at a clean stop; the counters show the sink's figures.
@Suite("Writer: held-back work of an idle line and at a clean stop")
struct ReadingWriterHeldTests {
    /// Holds one piece of work due at `dueMs`; `releaseHeld` readies it when asked late
    /// enough, and the next write (with or without readings) "writes" it.
    final class HoldingSink: BatchSink, @unchecked Sendable {
        // @unchecked: used on the writer thread, read after it has been joined (or under `lock`).
        let lock = Locked<(writes: [Int], asked: [Int64?], released: Bool, written: Int)>(([], [], false, 0))
        let dueMs: Int64
        init(dueMs: Int64) { self.dueMs = dueMs }
        func connect(within limit: Duration?) throws {}
        func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int {
            lock.withLock { s in
                s.writes.append(rows.count)
                if s.released { s.written += 1; s.released = false }
            }
            return rows.count
        }
        func disconnect() {}
        func classify(_ error: any Error) -> WriteFailure { .connectionLost }
        func releaseHeld(upToMs: Int64?) -> Bool {
            lock.withLock { s in
                s.asked.append(upToMs)
                guard s.written == 0, upToMs.map({ $0 >= dueMs }) ?? true else { return false }
                s.released = true
                return true
            }
        }
        func occupancyEventCounts() -> (written: Int, suppressed: Int, held: Int) {
            lock.withLock { s in (s.written, 6, 1 - s.written) }
        }
    }

    func writer(_ sink: HoldingSink, counters: StoreCounters) -> ReadingWriter {
        var logger = Logger(label: "writer-held-test")
        logger.logLevel = .critical
        return ReadingWriter(config: ReadingWriter.Config(), ring: RingBuffer(capacity: 16), events: LinkEventQueue(),
                             counters: counters, logger: logger, makeSink: { sink }, sessions: SessionTable())
    }

    @Test("a quiet line: the writer asks about once a second, with a time a second behind its clock, and writes what is due")
    func idleRelease() {
        let sink = HoldingSink(dueMs: Clock.wallMilliseconds() - 1_000)
        let counters = StoreCounters()
        let w = writer(sink, counters: counters)
        let started = Clock.wallMilliseconds()
        w.start()
        var done = false
        for _ in 0..<60 where !done {
            Clock.sleep(milliseconds: 50)
            done = sink.lock.withLock { $0.written == 1 }
        }
        w.finish()
        let ended = Clock.wallMilliseconds()
        let s = sink.lock.withLock { $0 }
        #expect(done, "the held work was written without any reading")
        #expect(s.writes.first == 0, "an empty batch: no readings came")
        #expect(!s.asked.isEmpty && s.asked.compactMap { $0 }.allSatisfy { $0 >= started - 1_000 && $0 <= ended - 1_000 })
        #expect(s.asked.last == .some(nil), "at the stop: everything")
        #expect(counters.occupancyEvents.value == 1 && counters.occupancyEventsSuppressed.value == 6
                && counters.occupancyEventsHeld.value == 0)
    }

    @Test("a clean stop writes what is held even if it is not due")
    func releasedAtStop() {
        let sink = HoldingSink(dueMs: .max)
        let counters = StoreCounters()
        let w = writer(sink, counters: counters)
        w.start()
        Clock.sleep(milliseconds: 100)
        w.finish()
        let s = sink.lock.withLock { $0 }
        #expect(s.written == 1 && s.writes == [0])
        #expect(s.asked.last == .some(nil))
        #expect(counters.occupancyEvents.value == 1)
    }
}
