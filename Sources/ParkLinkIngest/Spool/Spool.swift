#if canImport(Glibc)
import Glibc
#endif
import ParkLinkProtocol
import ParkLinkSystem
import Synchronization

/// Readings the ring could not hold, on disk in the state directory, until the database
/// takes them.
///
/// Append-only segment files (`seg-NNNNNNNNNNNNNNNNNNNN.spool`), every record checksummed
/// (`SpoolRecord`). The reader appends with a plain `write()` into the page cache and
/// never waits for the disk: `sync()`, called on an interval by a thread of its own, makes
/// the data durable. The writer drains the oldest records first and deletes a segment
/// only once its last record is committed, so a crash replays at most what was being
/// written (the key makes the replay harmless). At start, a torn or corrupt tail (a crash
/// mid-write, a power loss) is cut at the last good record and counted.
///
/// At the size cap nothing more is kept: the readings that could not be written are
/// counted (`droppedFull`), never dropped silently.
public final class Spool: @unchecked Sendable {
    // @unchecked: segment bookkeeping is under `lock`; the drain cursor and its descriptor
    // belong to the writer thread; counters are atomics.
    public struct Config: Sendable {
        public var directory: String
        /// The most the spool may hold on disk (default 2 GiB).
        public var maxBytes: Int64 = 2 << 30
        /// A segment is closed and a new one begun past this size.
        public var segmentBytes: Int64 = 64 << 20
        /// How often appended data is made durable.
        public var syncIntervalMs = 250
        public init(directory: String) { self.directory = directory }
    }

    /// What the start-up scan found.
    public struct Recovery: Sendable, Equatable {
        public var segments = 0
        public var readings = 0
        /// Bytes cut from the end of segments: records torn by a crash or corrupt.
        public var tornBytes: Int64 = 0
        public var tornSegments = 0
        /// The next seq after the last spooled reading of each session, so that a restarted
        /// appliance does not take the spooled readings for a link gap.
        public var resume: [SessionKey: UInt64] = [:]
        /// The lowest spooled seq of each session: after a crash, the readings between the
        /// stored ones and these were in the dead run's ring (see `ReadingWriter`).
        public var first: [SessionKey: UInt64] = [:]
        /// Link events a stop with the database down left unstored (see `PendingLinkEvents`).
        public var linkEvents = PendingLinkEvents.Contents()
    }

    /// Where the writer has read to: a segment and a byte offset in it.
    public struct Cursor: Sendable, Equatable {
        public var segment: UInt64
        public var offset: Int64
    }

    struct Segment {
        var number: UInt64
        var path: String
        var size: Int64
        var readings: Int
    }

    public let config: Config
    public let recovery: Recovery
    /// Where a stop with the database down keeps the link events it could not store.
    public let linkEvents: PendingLinkEvents
    let lock = ConditionLock()
    var segments: [Segment] = []
    var appendFD: FileDescriptor?
    /// Rotated segments whose data the next `sync()` makes durable before closing them.
    var rotated: [FileDescriptor] = []
    var dirty = false
    var buffer: [UInt8] = []
    var totalBytes: Int64 = 0
    var pendingReadings = 0
    var oldestAtMs: Int64?
    var readCursor: Cursor
    var readFD: (number: UInt64, fd: FileDescriptor)?

    let _appended = Atomic<Int>(0)
    let _drained = Atomic<Int>(0)
    let _droppedFull = Atomic<Int>(0)
    let _droppedError = Atomic<Int>(0)
    let _syncs = Atomic<Int>(0)
    let lastError = Locked<String?>(nil)
    /// In use: the reader appends here instead of the ring until the writer has drained it.
    let _active = Atomic<Bool>(false)
    /// When the writer began failing to commit (0: it commits).
    let _writerFailingSinceMs = Atomic<Int64>(0)
    /// The front segment a shutdown writes older readings into (see `appendInFront`).
    var frontFD: FileDescriptor?
    let drainRate = Locked(RateWindow())

    /// Opens (creating) the spool directory, scans what an earlier run left, and cuts
    /// torn tails.
    public init(config: Config) throws {
        self.config = config
        try FileSystem.makeDirectory(config.directory)
        linkEvents = PendingLinkEvents(path: config.directory + "/link-events")
        var found: [(UInt64, String)] = []
        for name in try FileSystem.list(config.directory) where name.hasPrefix("seg-") && name.hasSuffix(".spool") {
            if let n = UInt64(name.dropFirst(4).dropLast(6)) { found.append((n, config.directory + "/" + name)) }
        }
        var recovery = Recovery()
        var oldest: Int64?
        for (number, path) in found.sorted(by: { $0.0 < $1.0 }) {
            let fd = try FileDescriptor.open(path, flags: O_RDWR)
            let size = try fd.size()
            let scan = try Self.scan(fd, size: size, resume: &recovery.resume, first: &recovery.first)
            if scan.goodBytes < size {
                try fd.truncate(to: scan.goodBytes)
                try fd.syncData()
                recovery.tornBytes += size - scan.goodBytes
                recovery.tornSegments += 1
            }
            fd.close()
            if scan.readings == 0 {
                try? FileSystem.remove(path)
                continue
            }
            if oldest == nil { oldest = scan.firstAtMs }
            segments.append(Segment(number: number, path: path, size: scan.goodBytes, readings: scan.readings))
            recovery.segments += 1
            recovery.readings += scan.readings
            totalBytes += scan.goodBytes
        }
        recovery.linkEvents = linkEvents.load()
        pendingReadings = recovery.readings
        oldestAtMs = oldest
        self.recovery = recovery
        readCursor = Cursor(segment: segments.first?.number ?? Self.firstNumber, offset: 0)
        _active.store(recovery.readings > 0, ordering: .relaxed)
    }

    /// Segment numbers start high so that a shutdown can put older readings in front.
    static let firstNumber: UInt64 = 1 << 32

    deinit {
        appendFD.map { try? $0.syncData() }
        for fd in rotated { try? fd.syncData() }
    }

    // MARK: - Figures

    public var pending: Int { lock.withLock { pendingReadings } }
    public var bytes: Int64 { lock.withLock { totalBytes } }
    public var isEmpty: Bool { pending == 0 }
    /// When the oldest reading still in the spool arrived (nil: empty).
    public var oldestReceivedAtMs: Int64? { lock.withLock { pendingReadings > 0 ? oldestAtMs : nil } }
    public var appended: Int { _appended.load(ordering: .relaxed) }
    public var drained: Int { _drained.load(ordering: .relaxed) }
    /// Readings refused because the spool was at its cap (or the disk was full).
    public var droppedFull: Int { _droppedFull.load(ordering: .relaxed) }
    /// Readings that could not be written for another I/O error.
    public var droppedError: Int { _droppedError.load(ordering: .relaxed) }
    public var syncs: Int { _syncs.load(ordering: .relaxed) }
    public var error: String? { lastError.withLock { $0 } }

    /// Readings per second the writer took out of the spool over the last ten seconds.
    public var drainPerSecond: Double { drainRate.withLock { $0.perSecond(nowMs: Int64(Clock.monotonicNanoseconds() / 1_000_000)) } }

    // MARK: - Where the reader's readings go

    /// Whether readings go to the spool (not the ring) now. Only the reader turns it on,
    /// only the writer (with the spool empty, under the lock) turns it off, so what the
    /// reader reads here is never stale for it.
    public var isActive: Bool { _active.load(ordering: .acquiring) }

    /// The writer calls these so that the reader spools as soon as the writer is not
    /// committing, before the ring fills.
    public func writerFailing(nowMs: Int64) {
        _ = _writerFailingSinceMs.compareExchange(expected: 0, desired: nowMs, ordering: .relaxed)
    }

    public func writerCommitted() { _writerFailingSinceMs.store(0, ordering: .relaxed) }

    /// The reader's rule: spool when the ring is past its high-water mark, or the writer
    /// has not committed for `stalledAfterMs`.
    public func shouldSpill(ringFill: Int, highWater: Int, nowMs: Int64, stalledAfterMs: Int64 = 1_000) -> Bool {
        if ringFill >= highWater { return true }
        let since = _writerFailingSinceMs.load(ordering: .relaxed)
        return since != 0 && nowMs - since >= stalledAfterMs
    }

    /// Reader: appends `rows` if the spool is in use and returns true; false means the ring
    /// takes them.
    public func appendIfActive(_ rows: UnsafeBufferPointer<StampedReading>, sessions: SessionResolving) -> Bool {
        guard isActive else { return false }
        append(rows, sessions: sessions)
        return true
    }

    /// Reader: from now on readings go to the spool.
    public func activate() { _active.store(true, ordering: .releasing) }

    /// Writer, after committing what it read: back to the ring when nothing is left. Under
    /// the lock, so no append can slip in between the check and the switch.
    @discardableResult
    public func deactivateIfDrained() -> Bool {
        lock.withLock {
            guard pendingReadings == 0 else { return false }
            _active.store(false, ordering: .releasing)
            return true
        }
    }

    /// Writer at shutdown: readings older than everything spooled (the batch it could not
    /// commit, what was left in the ring) go into a segment in front of the others, so
    /// the next run replays them first, in order. Appends to the same front segment on
    /// each call. Returns how many were kept.
    @discardableResult
    public func appendInFront(_ rows: UnsafeBufferPointer<StampedReading>, sessions: SessionResolving) -> Int {
        let kept = appendRecords(rows, sessions: sessions, inFront: true)
        if let fd = lock.withLock({ frontFD }) { try? fd.syncData() }
        return kept
    }

    // MARK: - Appending (the reader; the writer at shutdown)

    /// Appends `rows`, in order. Returns how many were kept; the rest are counted as
    /// dropped (cap reached or I/O error). Never waits for the disk.
    @discardableResult
    public func append(_ rows: UnsafeBufferPointer<StampedReading>, sessions: SessionResolving) -> Int {
        appendRecords(rows, sessions: sessions, inFront: false)
    }

    /// Cuts `rows` into records (one session each, at most `maxReadingsPerRecord`) and
    /// writes them at the end of the spool or into the front segment.
    private func appendRecords(_ rows: UnsafeBufferPointer<StampedReading>, sessions: SessionResolving, inFront: Bool) -> Int {
        guard !rows.isEmpty else { return 0 }
        lock.lock()
        defer { lock.unlock() }
        var kept = 0
        var i = 0
        while i < rows.count {
            let session = rows[i].session
            var j = i
            while j < rows.count && rows[j].session == session && j - i < SpoolRecord.maxReadingsPerRecord { j += 1 }
            let run = UnsafeBufferPointer(rebasing: rows[i..<j])
            buffer.removeAll(keepingCapacity: true)
            SpoolRecord.encode(run, key: sessions.key(for: session), into: &buffer)
            let written = inFront ? writeInFrontLocked(buffer, readings: run.count)
                                  : writeLocked(buffer, readings: run.count, firstAtMs: run[0].receivedAtMs)
            if written { kept += run.count }
            i = j
        }
        _appended.add(kept, ordering: .relaxed)
        return kept
    }

    /// Writes one encoded record to the front segment (made on first use). Caller holds `lock`.
    private func writeInFrontLocked(_ record: [UInt8], readings: Int) -> Bool {
        if totalBytes + Int64(record.count) > config.maxBytes {
            _droppedFull.add(readings, ordering: .relaxed)
            return false
        }
        do {
            if frontFD == nil {
                let number = min(segments.first?.number ?? Self.firstNumber, readCursor.segment) - 1
                let path = config.directory + "/" + Self.name(number)
                frontFD = try FileDescriptor.open(path, flags: O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, mode: 0o640)
                segments.insert(Segment(number: number, path: path, size: 0, readings: 0), at: 0)
            }
            try record.withUnsafeBytes { try frontFD!.writeAll($0) }
        } catch {
            if let fd = frontFD, let first = segments.first { try? fd.truncate(to: first.size) }
            _droppedError.add(readings, ordering: .relaxed)
            lastError.withLock { $0 = "\(error)" }
            return false
        }
        segments[0].size += Int64(record.count)
        segments[0].readings += readings
        totalBytes += Int64(record.count)
        pendingReadings += readings
        return true
    }

    /// Writes one encoded record to the active segment. Caller holds `lock`.
    func writeLocked(_ record: [UInt8], readings: Int, firstAtMs: Int64) -> Bool {
        if totalBytes + Int64(record.count) > config.maxBytes {
            _droppedFull.add(readings, ordering: .relaxed)
            return false
        }
        do {
            if appendFD == nil || segments.last.map({ $0.size >= config.segmentBytes }) == true {
                try rotateLocked()
            }
            guard let fd = appendFD else { return false }
            try record.withUnsafeBytes { try fd.writeAll($0) }
        } catch {
            // A partial write would tear the segment: cut it back to the last record.
            if let fd = appendFD, let last = segments.last { try? fd.truncate(to: last.size) }
            let full = (error as? SystemError).map { $0.errno == ENOSPC || $0.errno == EDQUOT } ?? false
            if full { _droppedFull.add(readings, ordering: .relaxed) } else { _droppedError.add(readings, ordering: .relaxed) }
            lastError.withLock { $0 = "\(error)" }
            return false
        }
        segments[segments.count - 1].size += Int64(record.count)
        segments[segments.count - 1].readings += readings
        totalBytes += Int64(record.count)
        if pendingReadings == 0 { oldestAtMs = firstAtMs }
        pendingReadings += readings
        dirty = true
        return true
    }

    func rotateLocked() throws {
        if let fd = appendFD { rotated.append(fd) }
        appendFD = nil
        let number = (segments.last?.number ?? readCursor.segment) + 1
        let path = config.directory + "/" + Self.name(number)
        appendFD = try FileDescriptor.open(path, flags: O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, mode: 0o640)
        segments.append(Segment(number: number, path: path, size: 0, readings: 0))
        if segments.count == 1 { readCursor = Cursor(segment: number, offset: 0) }
    }

    /// Makes what was appended durable (`fdatasync`), outside the lock so the reader is
    /// never held up by the disk. Called every `syncIntervalMs` by the spool's sync thread,
    /// and at shutdown.
    public func sync() {
        let (fd, old) = lock.withLock { () -> (FileDescriptor?, [FileDescriptor]) in
            let wasDirty = dirty
            dirty = false
            defer { rotated.removeAll() }
            return (wasDirty ? appendFD : nil, rotated)
        }
        for r in old {
            try? r.syncData()
            r.close()
        }
        if let fd {
            do {
                try fd.syncData()
                _syncs.add(1, ordering: .relaxed)
            } catch {
                lastError.withLock { $0 = "\(error)" }
            }
        }
        if !old.isEmpty || fd != nil { FileSystem.syncDirectory(config.directory) }
    }
}
