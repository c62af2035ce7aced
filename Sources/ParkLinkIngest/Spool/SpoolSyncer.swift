#if canImport(Glibc)
import Glibc
#endif
import ParkLinkSystem

/// The spool's durability on a clock: every `syncIntervalMs` it makes what the reader
/// appended durable, on a thread of its own, so that neither the reader nor the writer
/// ever waits for the disk. A crash loses at most one interval of spooled readings (and
/// what was in the ring), and those show up as gaps at the next start.
public final class SpoolSyncer: @unchecked Sendable {
    // @unchecked: `thread` is touched by start/stop only; the rest is thread-safe.
    private let spool: Spool
    private let wake: WakePipe
    private let stopping = Locked(false)
    private var thread: NamedThread?

    public init(spool: Spool) throws {
        self.spool = spool
        self.wake = try WakePipe()
    }

    public func start() {
        precondition(thread == nil)
        thread = NamedThread(name: "pl-spool-sync") { [self] in
            while !stopping.withLock({ $0 }) {
                _ = try? Poll.wait([PollRequest(fd: wake.readEnd.raw, events: Int16(POLLIN))],
                                   timeoutMs: Int32(spool.config.syncIntervalMs))
                wake.drain()
                spool.sync()
            }
        }
    }

    /// Stops the thread after a last sync.
    public func stop() {
        stopping.withLock { $0 = true }
        wake.wake()
        thread?.join()
        thread = nil
        spool.sync()
    }
}
