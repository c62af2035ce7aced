import Logging
import ParkLinkStore
import ParkLinkSystem

/// Where the writer puts a batch: one transaction holding the readings and the link
/// events, committed before `write` returns. Implemented over MariaDB by
/// `MariaDBBatchStore`; a protocol so the retry logic below is one piece of code
/// whatever the store.
public protocol BatchStore: AnyObject {
    /// Connects if not connected (migrating the schema on first use).
    func connect() throws
    /// Writes and commits; returns how many readings were new (the rest were replays).
    func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int
    /// Drops the connection after a failure, so the next attempt starts clean.
    func disconnect()
}

/// The consumer: ring → batches → one transaction each.
///
/// It takes up to `maxRows` readings, or what came within `lingerMs` of the first, and
/// forgets them only after the commit. On any error it keeps the batch, reconnects with
/// capped exponential backoff and writes the same batch again: the key
/// (gateway_id, boot_id, seq) makes the replay harmless.
public final class ReadingWriter: @unchecked Sendable {
    // @unchecked: `thread` is touched by start/stop only; the store is used by the
    // writer thread alone; everything else is thread-safe.
    public struct Config: Sendable {
        public var maxRows = 5_000
        public var lingerMs = 20
        public var initialBackoffMs = 100
        public var maxBackoffMs = 1_000
        /// After stop is asked, how long a failing database may keep the writer retrying.
        public var shutdownGraceMs = 30_000
        public init() {}
    }

    public let config: Config
    public let counters: StoreCounters
    private let ring: RingBuffer<StampedReading>
    private let events: LinkEventQueue
    private let makeStore: @Sendable () -> BatchStore
    private let afterCommit: (@Sendable (UnsafeBufferPointer<StampedReading>) -> Void)?
    private let logger: Logger
    private let stopAskedAtMs = Locked<Int64?>(nil)
    private let _abandoned = Locked(0)
    private var thread: NamedThread?

    /// - Parameters:
    ///   - makeStore: called on the writer thread, which owns the store and its
    ///     connection from then on (a MariaDB connection must stay on one thread).
    ///   - afterCommit: sees each batch once it is committed (the sampler's sensor state).
    public init(
        config: Config, ring: RingBuffer<StampedReading>, events: LinkEventQueue,
        counters: StoreCounters, logger: Logger, makeStore: @escaping @Sendable () -> BatchStore,
        afterCommit: (@Sendable (UnsafeBufferPointer<StampedReading>) -> Void)? = nil
    ) {
        self.afterCommit = afterCommit
        self.config = config
        self.ring = ring
        self.events = events
        self.counters = counters
        self.logger = logger
        self.makeStore = makeStore
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
        let store = makeStore()
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
    private func commitWithRetry(_ store: BatchStore, _ rows: UnsafeBufferPointer<StampedReading>, _ pendingEvents: [LinkEvent]) -> Int? {
        var backoff = config.initialBackoffMs
        while true {
            do {
                if !counters.connected.load(ordering: .relaxed) {
                    try store.connect()
                    counters.connected.store(true, ordering: .relaxed)
                    counters.connects.add(1)
                    logger.info("database connected")
                }
                let inserted = try store.write(rows, events: pendingEvents)
                if counters.lastError != nil { counters.setLastError(nil) }
                return inserted
            } catch {
                counters.retries.add(1)
                counters.setLastError("\(error)")
                if counters.connected.load(ordering: .relaxed) {
                    logger.error("batch not committed; keeping it and reconnecting", metadata: [
                        "batch.rows": "\(rows.count)", "store.error": "\(error)", "store.backoff_ms": "\(backoff)",
                    ])
                }
                counters.connected.store(false, ordering: .relaxed)
                store.disconnect()
                if let asked = stopAskedAtMs.withLock({ $0 }), Clock.wallMilliseconds() - asked > Int64(config.shutdownGraceMs) {
                    return nil
                }
                Clock.sleep(milliseconds: backoff)
                backoff = min(backoff * 2, config.maxBackoffMs)
            }
        }
    }
}
