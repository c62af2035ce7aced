import ParkLinkSystem
import Synchronization

/// The bounded, preallocated queue between the reader and the writer.
///
/// One mutex, two condition variables ("not empty" for the consumer, "not full" for the
/// producer), batch operations so the lock is taken once per read() chunk and once per
/// database batch rather than once per reading, and a signal only when the other side is
/// actually waiting (PLATFORM-NOTES: ~13 M items/s this way). Counters are atomics so
/// `parklink status` can read them without touching the lock.
public final class RingBuffer<Element>: @unchecked Sendable {
    // @unchecked: `storage`, `head`, `count`, `closed` and the waiter flags are only
    // touched with `lock` held; counters are atomics.
    public let capacity: Int
    private let storage: UnsafeMutablePointer<Element>
    private var head = 0
    private var count = 0
    private var closed = false
    private var consumerWaiting = false
    /// How many queued elements end the consumer's wait: 1 while it waits for the first,
    /// its batch size while it lingers. A push short of it wakes nobody: a slow trickle
    /// costs one wake-up per batch, not one per push.
    private var consumerWantsCount = 1
    private var producerWaiting = false
    /// When the oldest element now queued came (monotonic ns; 0 while empty): the linger
    /// runs from there, not from when the consumer looks.
    private var oldestArrivalNs: UInt64 = 0
    private let lock = ConditionLock(conditions: 2)
    private static var notEmpty: Int { 0 }
    private static var notFull: Int { 1 }

    private let _pushed = Atomic<Int>(0)
    private let _popped = Atomic<Int>(0)
    private let _fill = Atomic<Int>(0)
    private let _highWater = Atomic<Int>(0)
    private let _producerWaits = Atomic<Int>(0)
    private let _producerWaitNanos = Atomic<Int>(0)

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        // Elements still queued are trivial values in the pipeline, but deinitialise
        // properly for any Element.
        for i in 0..<count { (storage + (head + i) % capacity).deinitialize(count: 1) }
        storage.deallocate()
    }

    public var pushed: Int { _pushed.load(ordering: .relaxed) }
    public var popped: Int { _popped.load(ordering: .relaxed) }
    public var fill: Int { _fill.load(ordering: .relaxed) }
    public var highWater: Int { _highWater.load(ordering: .relaxed) }
    /// How many times the producer found the ring full and had to wait.
    public var producerWaits: Int { _producerWaits.load(ordering: .relaxed) }
    public var producerWaitMilliseconds: Int { _producerWaitNanos.load(ordering: .relaxed) / 1_000_000 }

    /// Copies as many of `items` as fit without waiting; returns how many.
    public func tryPush(_ items: UnsafeBufferPointer<Element>) -> Int {
        lock.lock()
        let n = enqueueLocked(items)
        lock.unlock()
        return n
    }

    /// Copies all of `items`, waiting while the ring is full. Returns false (having
    /// pushed only part, or nothing) if the ring was closed meanwhile.
    @discardableResult
    public func push(_ items: UnsafeBufferPointer<Element>) -> Bool {
        var offset = 0
        lock.lock()
        defer { lock.unlock() }
        while true {
            offset += enqueueLocked(UnsafeBufferPointer(rebasing: items[offset...]))
            if offset == items.count { return true }
            if closed { return false }
            _producerWaits.add(1, ordering: .relaxed)
            let start = Clock.monotonicNanoseconds()
            producerWaiting = true
            while count == capacity && !closed { lock.wait(Self.notFull) }
            producerWaiting = false
            _producerWaitNanos.add(Int(Clock.monotonicNanoseconds() - start), ordering: .relaxed)
        }
    }

    public func push(_ items: [Element]) -> Bool {
        items.withUnsafeBufferPointer { push($0) }
    }

    /// Moves up to `max` elements into `buffer`.
    ///
    /// Waits for the first element (at most `firstWaitMs`, nil: until `close`); then, if
    /// fewer than `max` are queued, waits for the batch to fill until `lingerMs` after the
    /// oldest queued element came, so that a slow trickle still becomes few transactions
    /// while a flood is taken at once. Counted from the oldest element's arrival, not from
    /// the call: what queued during the previous commit has waited already, and a batch
    /// found after a commit longer than the linger is taken at once (at 50,000 readings/s
    /// the linger had added its 20 ms to every cycle, commit time on top).
    /// With `busy`, a long linger (a slow line's) is cut to `busy.lingerMs` once
    /// `busy.count` elements are queued: a flood that starts after a quiet spell is taken
    /// at the busy pace, not after the slow line's wait. The producer wakes the consumer
    /// for that count only, so a line slower than it costs no extra wake-up.
    /// Returns 0 when the wait for the first element timed out, or the ring is closed
    /// and empty (`isDrained` tells which).
    public func pop(into buffer: UnsafeMutablePointer<Element>, max: Int, lingerMs: Int, firstWaitMs: Int? = nil,
                    busy: (count: Int, lingerMs: Int)? = nil) -> Int {
        lock.lock()
        defer { lock.unlock() }
        consumerWaiting = true
        consumerWantsCount = 1
        if let firstWaitMs {
            let deadline = Clock.monotonicNanoseconds() + UInt64(firstWaitMs) * 1_000_000
            while count == 0 && !closed && waitLocked(until: deadline) {}
        } else {
            while count == 0 && !closed { lock.wait(Self.notEmpty) }
        }
        if count < max && !closed && lingerMs > 0 {
            var linger = lingerMs
            // The cut that still applies: a busy linger shorter than this one.
            var cut = busy.flatMap { $0.lingerMs < lingerMs ? $0 : nil }
            while count < max && !closed {
                if let c = cut, count >= c.count || c.count >= max {
                    cut = nil
                    if count >= c.count { linger = c.lingerMs }
                }
                // Woken at the cut's count while it may still apply, else for a full batch.
                consumerWantsCount = cut?.count ?? max
                if !waitLocked(until: oldestArrivalNs + UInt64(linger) * 1_000_000) { break }
            }
        }
        consumerWaiting = false
        let n = Swift.min(max, count)
        var i = 0
        while i < n {
            let run = Swift.min(n - i, capacity - head)
            (buffer + i).moveInitialize(from: storage + head, count: run)
            head = (head + run) % capacity
            i += run
        }
        count -= n
        // What stays came after what was taken; when exactly is not kept: from now.
        if count > 0 { oldestArrivalNs = Clock.monotonicNanoseconds() }
        _fill.store(count, ordering: .relaxed)
        _popped.add(n, ordering: .relaxed)
        if producerWaiting && n > 0 { lock.signal(Self.notFull) }
        return n
    }

    /// Waits `milliseconds`, or until `count` elements are queued or the ring is closed,
    /// whichever comes first: a slow line's writer sleeps its linger out here instead of
    /// waking for the first reading, and a flood that starts meanwhile wakes it at once.
    public func waitQuietly(milliseconds: Int, untilCount count: Int) {
        lock.lock()
        defer { lock.unlock() }
        consumerWaiting = true
        consumerWantsCount = Swift.max(1, count)
        let deadline = Clock.monotonicNanoseconds() + UInt64(milliseconds) * 1_000_000
        while self.count < consumerWantsCount && !closed && waitLocked(until: deadline) {}
        consumerWaiting = false
    }

    /// One wait for the producer's signal, bounded by `deadline` (monotonic ns); false,
    /// without waiting, once the deadline has passed. The lock is held.
    private func waitLocked(until deadline: UInt64) -> Bool {
        let now = Clock.monotonicNanoseconds()
        guard now < deadline else { return false }
        lock.wait(Self.notEmpty, milliseconds: Swift.max(1, Int((deadline - now) / 1_000_000)))
        return true
    }

    /// Closed: the producer has stopped (what is queued may still be popped).
    public var isClosed: Bool { lock.withLock { closed } }

    /// Closed and nothing left: the consumer is done.
    public var isDrained: Bool { lock.withLock { closed && count == 0 } }

    /// Wakes both sides for good: pushes fail, pops drain what is left and then return 0.
    public func close() {
        lock.withLock {
            closed = true
            lock.broadcast(Self.notEmpty)
            lock.broadcast(Self.notFull)
        }
    }

    private func enqueueLocked(_ items: UnsafeBufferPointer<Element>) -> Int {
        guard !closed, let base = items.baseAddress else { return 0 }
        let n = Swift.min(items.count, capacity - count)
        var i = 0
        while i < n {
            let tail = (head + count + i) % capacity
            let run = Swift.min(n - i, capacity - tail)
            (storage + tail).initialize(from: base + i, count: run)
            i += run
        }
        if n > 0 && count == 0 { oldestArrivalNs = Clock.monotonicNanoseconds() }
        count += n
        if n > 0 {
            _pushed.add(n, ordering: .relaxed)
            _fill.store(count, ordering: .relaxed)
            if count > _highWater.load(ordering: .relaxed) { _highWater.store(count, ordering: .relaxed) }
            if consumerWaiting && count >= consumerWantsCount { lock.signal(Self.notEmpty) }
        }
        return n
    }
}
