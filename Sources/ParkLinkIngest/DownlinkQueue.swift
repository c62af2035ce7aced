import ParkLinkProtocol
import ParkLinkSystem
import Synchronization

/// Commands for the gateway (`LED`, `PING`) on their way to the reader thread, which owns
/// the serial descriptor and writes them between reads.
///
/// Bounded, so that a burst (every bay's LED after a reconnect, a technician's script)
/// costs memory only up to `capacity`: past it a command is refused, counted in
/// `dropped`, and the sender (the LED controller) tries again later. The reader takes
/// commands with `tryLock`, never `lock`: if a sender holds the lock at that instant the
/// reader goes back to reading and takes them on its next turn, so it never waits here.
public final class DownlinkQueue: @unchecked Sendable {
    // @unchecked: `items` is touched only under `lock`; the counters are atomics.
    public let capacity: Int
    private let lock = ConditionLock()
    private var items: [Message] = []
    private let refused = Atomic<Int>(0)
    private let taken = Atomic<Int>(0)

    public init(capacity: Int = 4_096) {
        precondition(capacity > 0)
        self.capacity = capacity
        items.reserveCapacity(min(capacity, 1_024))
    }

    /// Queues `message` unless the queue is full; false (and counted) when it is.
    @discardableResult
    public func offer(_ message: Message) -> Bool {
        let ok = lock.withLock { () -> Bool in
            guard items.count < capacity else { return false }
            items.append(message)
            return true
        }
        if !ok { refused.add(1, ordering: .relaxed) }
        return ok
    }

    /// Room left now (a sender filling it up to this does not see refusals, barring a race).
    public var space: Int { lock.withLock { capacity - items.count } }

    public var count: Int { lock.withLock { items.count } }

    /// Commands refused because the queue was full.
    public var dropped: Int { refused.load(ordering: .relaxed) }

    /// Commands handed to the reader.
    public var delivered: Int { taken.load(ordering: .relaxed) }

    /// Up to `limit` commands, oldest first, if the lock is free; nil when a sender holds
    /// it (the caller tries again on its next turn). For the reader thread.
    public func tryTake(limit: Int) -> [Message]? {
        guard lock.tryLock() else { return nil }
        defer { lock.unlock() }
        let n = min(limit, items.count)
        guard n > 0 else { return [] }
        let out = Array(items[0..<n])
        items.removeFirst(n)
        taken.add(n, ordering: .relaxed)
        return out
    }
}
