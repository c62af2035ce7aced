import ParkLinkProtocol
import Logging
import ParkLinkSystem

/// Where the writer puts a batch: one transaction holding the readings and the link
/// events, committed before `write` returns. The daemon implements it over the store's
/// `BatchTransaction`; a protocol so that the retry logic below is one piece of code,
/// whatever the store, and so that this module never links the database client.
public protocol BatchSink: AnyObject {
    /// Connects if not connected (migrating the schema on first use).
    func connect() throws
    /// Writes and commits; returns how many readings were new (the rest were replays).
    func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int
    /// Drops the connection after a failure, so the next attempt starts clean.
    func disconnect()
    /// What an error of `connect` or `write` means for the next attempt.
    func classify(_ error: any Error) -> WriteFailure
}

/// The writer's three ways of going on after a failed batch.
public enum WriteFailure: Sendable, Equatable {
    /// The connection is gone or cannot be made: reconnect with capped backoff.
    case connectionLost
    /// Deadlock, lock wait, certification conflict: write the same batch again soon.
    case transient
    /// The database refuses the batch and will go on refusing it until somebody acts (a
    /// revoked privilege, a data error): say so once, raise an alert, retry slowly.
    case permanent
}

/// The consumer: ring → batches → one transaction each.
///
/// It takes up to `maxRows` readings, or what came within `lingerMs` of the first, and
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
        public var maxRows = 5_000
        public var lingerMs = 20
        public var initialBackoffMs = 100
        public var maxBackoffMs = 1_000
        /// Between attempts while the database refuses the batch with a permanent error.
        public var permanentRetryMs = 5_000
        /// After stop is asked, how long a failing database may keep the writer retrying.
        public var shutdownGraceMs = 30_000
        public init() {}
    }

    public let config: Config
    public let counters: StoreCounters
    private let ring: RingBuffer<StampedReading>
    private let events: LinkEventQueue
    private let makeSink: @Sendable () -> BatchSink
    private let afterCommit: (@Sendable (UnsafeBufferPointer<StampedReading>) -> Void)?
    private let logger: Logger
    private let stopAskedAtMs = Locked<Int64?>(nil)
    private let _abandoned = Locked(0)
    private var thread: NamedThread?

    /// - Parameters:
    ///   - makeSink: called on the writer thread, which owns the store and its
    ///     connection from then on (a MariaDB connection must stay on one thread).
    ///   - afterCommit: sees each batch once it is committed (the sampler's sensor state).
    public init(
        config: Config, ring: RingBuffer<StampedReading>, events: LinkEventQueue,
        counters: StoreCounters, logger: Logger, makeSink: @escaping @Sendable () -> BatchSink,
        afterCommit: (@Sendable (UnsafeBufferPointer<StampedReading>) -> Void)? = nil
    ) {
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

    public func start() {
        precondition(thread == nil)
        thread = NamedThread(name: "pl-writer") { [self] in run() }
    }

    /// Starts the shutdown grace period. Call before stopping the reader: a reader
    /// blocked on a full ring (database down) is freed only when the writer gives up.
    public func beginStop() {
        stopAskedAtMs.withLock { if $0 == nil { $0 = Clock.wallMilliseconds() } }
    }

    /// Drains the ring (the reader must have stopped) and returns when everything is
    /// committed, or the grace period is over.
    public func finish() {
        beginStop()
        ring.close()
        thread?.join()
        thread = nil
    }

    private func run() {
        let store = makeSink()
        defer { store.disconnect() }
        let capacity = config.maxRows
        let batch = UnsafeMutablePointer<StampedReading>.allocate(capacity: capacity)
        defer { batch.deallocate() }

        while true {
            // At most a second's wait for readings, so link events of a quiet line (a
            // HELLO, a gap seen by a heartbeat) are stored without waiting for traffic.
            let n = ring.pop(into: batch, max: capacity, lingerMs: config.lingerMs, firstWaitMs: 1_000)
            let pendingEvents = events.takeAll()
            if n == 0 && pendingEvents.isEmpty {
                if ring.isDrained { break }
                continue
            }
            counters.inFlight.store(n, ordering: .relaxed)
            let rows = UnsafeBufferPointer(start: batch, count: n)
            guard let inserted = commitWithRetry(store, rows, pendingEvents) else {
                _abandoned.withLock { $0 += n }
                batch.deinitialize(count: n)
                // The grace period ran out: what is still queued, and what a reader blocked
                // on the full ring still pushes before it stops, cannot be written either.
                var rest = 0
                while !ring.isDrained {
                    let m = ring.pop(into: batch, max: capacity, lingerMs: 0, firstWaitMs: 100)
                    batch.deinitialize(count: m)
                    rest += m
                }
                _abandoned.withLock { $0 += rest }
                logger.critical("database unreachable at shutdown: readings not stored", metadata: [
                    "store.abandoned": "\(n + rest)", "store.error": "\(counters.lastError ?? "")",
                ])
                counters.inFlight.store(0, ordering: .relaxed)
                return
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
            counters.inFlight.store(0, ordering: .relaxed)
            batch.deinitialize(count: n)
        }
        logger.info("writer stopped", metadata: ["store.rows_committed": "\(counters.rowsCommitted.value)"])
    }

    /// Returns the number of new rows, or nil if stop was asked and the grace period ran out.
    ///
    /// The error decides what happens next. A lost connection: disconnect, back off (capped),
    /// reconnect. A transient error: the sink has rolled back; write the same batch again.
    /// A permanent error: logged once (until the next success or a different error) with
    /// the server's code and the step, shown in `status` and raised as an alert through
    /// `counters.writeRejected`, then retried every `permanentRetryMs` on a fresh
    /// connection, so the batch goes in as soon as somebody fixes the cause.
    private func commitWithRetry(_ sink: BatchSink, _ rows: UnsafeBufferPointer<StampedReading>, _ pendingEvents: [LinkEvent]) -> Int? {
        var backoff = config.initialBackoffMs
        while true {
            let wait: Int
            do {
                if !counters.connected.load(ordering: .relaxed) {
                    try sink.connect()
                    counters.connected.store(true, ordering: .relaxed)
                    counters.connects.add(1)
                    logger.info("database connected")
                }
                let inserted = try sink.write(rows, events: pendingEvents)
                if counters.lastError != nil { counters.setLastError(nil) }
                if let rejected = counters.writeRejected {
                    counters.setWriteRejected(nil)
                    logger.notice("database accepts the readings again", metadata: [
                        "store.previous_error": "\(rejected)", "batch.rows": "\(rows.count)",
                    ])
                }
                return inserted
            } catch {
                counters.retries.add(1)
                let text = "\(error)"
                counters.setLastError(text)
                switch sink.classify(error) {
                case .connectionLost:
                    if counters.connected.load(ordering: .relaxed) {
                        logger.error("batch not committed: connection lost; keeping it and reconnecting", metadata: [
                            "batch.rows": "\(rows.count)", "store.error": "\(text)", "store.backoff_ms": "\(backoff)",
                        ])
                    }
                    counters.connected.store(false, ordering: .relaxed)
                    sink.disconnect()
                    wait = backoff
                    backoff = min(backoff * 2, config.maxBackoffMs)
                case .transient:
                    logger.warning("batch not committed: transient error; writing it again", metadata: [
                        "batch.rows": "\(rows.count)", "store.error": "\(text)",
                    ])
                    wait = min(backoff, config.maxBackoffMs)
                    backoff = min(backoff * 2, config.maxBackoffMs)
                case .permanent:
                    if counters.writeRejected != text {
                        logger.critical("the database refuses the batch; keeping it and retrying every \(config.permanentRetryMs / 1_000) s until the cause is fixed", metadata: [
                            "batch.rows": "\(rows.count)", "store.error": "\(text)",
                        ])
                        counters.setWriteRejected(text)
                    }
                    // A fresh connection next time: a privilege given back may apply only
                    // to new sessions.
                    counters.connected.store(false, ordering: .relaxed)
                    sink.disconnect()
                    wait = config.permanentRetryMs
                }
            }
            if let asked = stopAskedAtMs.withLock({ $0 }), Clock.wallMilliseconds() - asked > Int64(config.shutdownGraceMs) {
                return nil
            }
            sleepUnlessStopping(milliseconds: wait)
        }
    }

    /// Sleeps, in slices, so that a long permanent-error wait does not outlast the
    /// shutdown grace period.
    private func sleepUnlessStopping(milliseconds: Int) {
        var left = milliseconds
        while left > 0 {
            let slice = min(left, 100)
            Clock.sleep(milliseconds: slice)
            left -= slice
            if let asked = stopAskedAtMs.withLock({ $0 }), Clock.wallMilliseconds() - asked > Int64(config.shutdownGraceMs) {
                return
            }
        }
    }
}
