import ParkLinkProtocol
import Logging
import ParkLinkSystem

/// The consumer: ring → batches → one transaction each.
///
/// It takes up to `maxRows` readings, or what came within `lingerMs` of the first (within
/// `idleLingerMs` while batches are small: a slow line then costs a few commits a second,
/// not fifty; until `smallBatchRows` are queued, so a flood after a quiet spell is not
/// held that long), and
/// forgets them only after the commit. On any error it keeps the batch, reconnects with
/// capped exponential backoff and writes the same batch again: the key
/// (gateway_id, boot_id, seq) makes the replay harmless.
///
/// Its thread is a plain `NamedThread`, not a `ServiceThread`: it waits in the ring's
/// condition variable, not in `poll`, so a wake pipe would wake nothing, and it is not
/// stopped by a flag but by the ring: `finish()` closes the ring, and the thread ends
/// once it has committed what was in it (or the shutdown grace period is over).
public final class ReadingWriter: @unchecked Sendable {
    // @unchecked: `thread` is touched by start/stop only; the store is used by the
    // writer thread alone; everything else is thread-safe.
    public struct Config: Sendable {
        public var maxRows = 20_000
        public var lingerMs = 20
        /// The linger after a batch of fewer than `smallBatchRows` readings.
        public var idleLingerMs = 100
        public var smallBatchRows = 64
        public var initialBackoffMs = 100
        public var maxBackoffMs = 1_000
        /// Between attempts while the database refuses the batch with a permanent error.
        public var permanentRetryMs = 5_000
        /// After stop is asked, how long a failing database may keep the writer retrying.
        public var shutdownGraceMs = 30_000
        /// False when the previous run did not stop cleanly: gaps that only the stored
        /// readings show to be the dead run's loss are stored as appliance-restart gaps
        /// (see `withoutStoredSeqs` and `spoolHoles`).
        public var lastRunStoppedCleanly = true
        /// The lowest seq per session in the spool an earlier run left (`Spool.Recovery.first`).
        public var spooledFrom: [SessionKey: UInt64] = [:]
        public init() {}
    }

    public let config: Config
    public let counters: StoreCounters
    let ring: RingBuffer<StampedReading>
    let events: LinkEventQueue
    private let makeSink: @Sendable () -> BatchSink
    private let afterCommit: (@Sendable (UnsafeBufferPointer<StampedReading>) -> Void)?
    let logger: Logger
    let stopAskedAtMs = Locked<Int64?>(nil)
    let _abandoned = Locked(0)
    let _spooledAtShutdown = Locked(0)
    let spool: Spool?
    let sessions: SessionTable
    /// Told how many readings a gap event of this reason claimed that were in fact stored.
    public var onGapRetracted: (@Sendable (_ count: Int, _ reason: GapReason) -> Void)?
    /// Told of each appliance-restart gap the writer finds itself, once the stored readings
    /// are known: a link gap the reader reported that was in fact the dead run's loss
    /// (`fromLinkGap`), or the readings its ring held in front of its spool.
    public var onRestartGap: (@Sendable (_ session: SessionKey, _ firstMissing: UInt32, _ count: Int, _ fromLinkGap: Bool) -> Void)?
    private var thread: NamedThread?
    /// Cuts the database attempt in progress (see `BatchSink.makeInterrupt`), once the
    /// writer thread has made its sink.
    private let interruptAttempt = Locked<(@Sendable () -> Void)?>(nil)
    /// Signalled when the writer thread is done, so `finish` can wait with a deadline.
    private let done = ConditionLock()
    private var isDone = false
    /// Writer-thread state: the permanent error last logged, so it is logged once.
    var rejectedSignature: String?
    var lastConnectFailureLogMs: Int64 = 0
    /// The stored sessions' resume points, once read (see `BatchSink.storedResumePoints`).
    var storedResume: [SessionKey: UInt64]?
    /// Link events an earlier stop kept beside the spool are queued and not yet committed.
    var keptEventsOnDisk: Bool

    /// - Parameters:
    ///   - makeSink: called on the writer thread, which owns the store and its
    ///     connection from then on (a MariaDB connection must stay on one thread).
    ///   - afterCommit: sees each batch once it is committed (the sampler's sensor state).
    public init(
        config: Config, ring: RingBuffer<StampedReading>, events: LinkEventQueue,
        counters: StoreCounters, logger: Logger, makeSink: @escaping @Sendable () -> BatchSink,
        sessions: SessionTable, spool: Spool? = nil,
        afterCommit: (@Sendable (UnsafeBufferPointer<StampedReading>) -> Void)? = nil
    ) {
        self.sessions = sessions
        self.spool = spool
        keptEventsOnDisk = !(spool?.recovery.linkEvents.events.isEmpty ?? true)
        self.afterCommit = afterCommit
        self.config = config
        self.ring = ring
        self.events = events
        self.counters = counters
        self.logger = logger
        self.makeSink = makeSink
    }

    /// Readings given up at shutdown because the database stayed down past the grace period.
    public var abandoned: Int { _abandoned.withLock { $0 } }
    /// Readings put in the spool at shutdown because the database could not take them.
    public var spooledAtShutdown: Int { _spooledAtShutdown.withLock { $0 } }

    public func start() {
        precondition(thread == nil)
        thread = NamedThread(name: "pl-writer") { [self] in run() }
    }

    /// Starts the shutdown grace period. Call before stopping the reader: a reader
    /// blocked on a full ring (database down) is freed only when the writer gives up.
    public func beginStop() {
        // Monotonic: a clock step (NTP at boot) must not stretch or cut the grace period.
        stopAskedAtMs.withLock { if $0 == nil { $0 = Int64(Clock.monotonicNanoseconds() / 1_000_000) } }
    }

    /// Drains the ring (the reader must have stopped) and returns when everything is
    /// committed, or the grace period is over.
    ///
    /// The grace period is a deadline on the monotonic clock, and no database attempt may
    /// outlast it: one still in flight then (a statement on a stalled server waits for its
    /// read timeout) is cut, so the batch in hand goes to the spool and the stop ends on
    /// time. A connect is capped by the time left instead (see `commitWithRetry`).
    public func finish() {
        beginStop()
        ring.close()
        guard let thread else { return }
        let askedMs = stopAskedAtMs.withLock { $0 } ?? Int64(Clock.monotonicNanoseconds() / 1_000_000)
        let deadlineMs = askedMs + Int64(config.shutdownGraceMs)
        let finished = done.withLock { () -> Bool in
            while !isDone {
                let leftMs = deadlineMs - Int64(Clock.monotonicNanoseconds() / 1_000_000)
                if leftMs <= 0 { return false }
                _ = done.wait(milliseconds: Int(min(leftMs, 1_000)))
            }
            return true
        }
        if !finished, let cut = interruptAttempt.withLock({ $0 }) {
            logger.warning("shutdown grace period over with a database attempt in flight: cutting it", metadata: [
                "store.grace_ms": "\(config.shutdownGraceMs)", "ring.fill": "\(ring.fill)",
            ])
            cut()
        }
        thread.join()
        self.thread = nil
    }

    /// Milliseconds of the grace period left once stop was asked; nil while running.
    func graceLeftMs() -> Int64? {
        guard let asked = stopAskedAtMs.withLock({ $0 }) else { return nil }
        return Int64(config.shutdownGraceMs) - (Int64(Clock.monotonicNanoseconds() / 1_000_000) - asked)
    }

    private func run() {
        let store = makeSink()
        interruptAttempt.withLock { $0 = store.makeInterrupt() }
        defer {
            store.disconnect()
            done.withLock {
                isDone = true
                done.broadcast()
            }
        }
        let capacity = config.maxRows
        let batch = UnsafeMutablePointer<StampedReading>.allocate(capacity: capacity)
        defer { batch.deallocate() }
        var lastRows = 0

        while true {
            // The ring first: while the spool is in use the reader adds nothing to the ring,
            // so what is there is older than anything spooled. Then the spool, oldest first.
            let spooling = spool?.isActive ?? false
            // At most a second's wait for readings, so link events of a quiet line (a
            // HELLO, a gap seen by a heartbeat) are stored without waiting for traffic.
            let small = lastRows < config.smallBatchRows && config.lingerMs > 0
            var linger = spooling ? 0 : small ? max(config.lingerMs, config.idleLingerMs) : config.lingerMs
            if small && lastRows > 0 && !spooling {
                // A slow line that was busy a moment ago: sleep the linger out, then take what
                // came, rather than wake for the first reading and then linger (one wake-up
                // per batch instead of two, and no signal from the reader). The first reading
                // waits no longer than the linger either way. A flood starting meanwhile
                // (a busy batch's worth queued) ends the wait at once.
                ring.waitQuietly(milliseconds: linger, untilCount: config.smallBatchRows)
                linger = 0
            }
            // A flood after a quiet spell (or at the start) is taken at the busy linger as
            // soon as a busy batch's worth has queued.
            var n = ring.pop(into: batch, max: capacity, lingerMs: linger,
                             firstWaitMs: spooling ? 0 : 1_000, busy: (config.smallBatchRows, config.lingerMs))
            var spoolEnd: Spool.Cursor?
            if n == 0, spooling, let spool, !ring.isClosed {
                let r = spool.read(into: batch, max: capacity, sessions: sessions)
                n = r.count
                if n > 0 {
                    spoolEnd = r.end
                } else if !spool.deactivateIfDrained() {
                    // Spooled readings that cannot be read right now (an I/O error): wait
                    // for the ring rather than spin.
                    n = ring.pop(into: batch, max: capacity, lingerMs: 0, firstWaitMs: 100)
                }
            }
            var pendingEvents = events.takeAll()
            if n == 0 && pendingEvents.isEmpty {
                // Nothing came: write what the sink holds back and is now due (debounced
                // occupancy changes), everything at a clean stop. A reading still in the
                // reader's hands was stamped less than a second ago.
                let drained = ring.isDrained
                if !store.releaseHeld(upToMs: drained ? nil : Clock.wallMilliseconds() - 1_000) {
                    if drained { break }
                    continue
                }
            }
            // Spooled readings are counted by the spool until committed.
            counters.inFlight.store(spoolEnd == nil ? n : 0, ordering: .relaxed)
            counters.batchStartedAtMs.store(Clock.wallMilliseconds(), ordering: .relaxed)
            let rows = UnsafeBufferPointer(start: batch, count: n)
            guard let inserted = commitWithRetry(store, rows, &pendingEvents) else {
                stopWithoutDatabase(batch: batch, count: n, fromSpool: spoolEnd != nil, capacity: capacity,
                                    events: pendingEvents)
                return
            }
            if let spool {
                if !pendingEvents.isEmpty && keptEventsOnDisk {
                    // The events an earlier stop kept went in with this batch (they are
                    // queued first): the file has done its work.
                    spool.linkEvents.remove()
                    keptEventsOnDisk = false
                }
                spool.writerCommitted()
                if let end = spoolEnd {
                    spool.commit(through: end, count: n, lastReceivedAtMs: rows.last?.receivedAtMs)
                    spool.deactivateIfDrained()
                }
            }
            let now = Clock.wallMilliseconds()
            afterCommit?(rows)
            counters.recordLatencies(rows, committedAtMs: now)
            counters.rowsCommitted.add(inserted)
            counters.rowsDuplicate.add(n - inserted)
            counters.batches.add(1)
            counters.lastBatchRows.store(n, ordering: .relaxed)
            counters.lastCommitAtMs.store(now, ordering: .relaxed)
            counters.linkEventsWritten.add(pendingEvents.count)
            let occupancy = store.occupancyEventCounts()
            counters.occupancyEvents.store(occupancy.written, ordering: .relaxed)
            counters.occupancyEventsSuppressed.store(occupancy.suppressed, ordering: .relaxed)
            counters.occupancyEventsHeld.store(occupancy.held, ordering: .relaxed)
            counters.inFlight.store(0, ordering: .relaxed)
            counters.batchStartedAtMs.store(0, ordering: .relaxed)
            batch.deinitialize(count: n)
            lastRows = n
        }
        logger.info("writer stopped", metadata: ["store.rows_committed": "\(counters.rowsCommitted.value)"])
    }
}
