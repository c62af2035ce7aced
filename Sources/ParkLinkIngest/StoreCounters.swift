import ParkLinkProtocol
import ParkLinkSystem
import Synchronization

/// What the writer has done, for `parklink status` and the sampler.
public final class StoreCounters: Sendable {
    public let connected = Atomic<Bool>(false)
    public let connects = Atomic<Int>(0)
    /// Rows the database newly stored.
    public let rowsCommitted = Atomic<Int>(0)
    /// Rows sent whose key was already stored (a replay after an unknown commit outcome,
    /// or a gateway repeating itself): harmless, and counted so the sums add up.
    public let rowsDuplicate = Atomic<Int>(0)
    public let batches = Atomic<Int>(0)
    public let lastBatchRows = Atomic<Int>(0)
    public let lastCommitAtMs = Atomic<Int64>(0)
    /// Failed attempts to write a batch (each is retried: nothing is dropped).
    public let retries = Atomic<Int>(0)
    /// Readings taken from the ring and not yet committed.
    public let inFlight = Atomic<Int>(0)
    public let linkEventsWritten = Atomic<Int>(0)
    /// Occupancy events (arrivals, departures) committed this run; changes the debounce
    /// suppressed (two per flap: the bay reverted within it); changes it holds now.
    public let occupancyEvents = Atomic<Int>(0)
    public let occupancyEventsSuppressed = Atomic<Int>(0)
    public let occupancyEventsHeld = Atomic<Int>(0)
    /// When the batch being written was taken (0: none in hand). Nothing committed for a
    /// while with a batch in hand is "database down", whatever the reason.
    public let batchStartedAtMs = Atomic<Int64>(0)
    private let _lastError = Locked<String?>(nil)
    private let _writeRejected = Locked<String?>(nil)
    private let _latency = Locked(LatencyHistogram())

    public init() {}

    public var lastError: String? { _lastError.withLock { $0 } }
    public func setLastError(_ s: String?) { _lastError.withLock { $0 = s } }

    /// The permanent error the database answers every batch with, while it does.
    public var writeRejected: String? { _writeRejected.withLock { $0 } }
    public func setWriteRejected(_ s: String?) { _writeRejected.withLock { $0 = s } }

    public var latency: LatencyHistogram { _latency.withLock { $0 } }
    /// Frame→commit latency of each reading of a committed batch, in one locked pass.
    public func recordLatencies(_ rows: UnsafeBufferPointer<StampedReading>, committedAtMs now: Int64) {
        _latency.withLock { h in
            for r in rows { h.record(now - r.receivedAtMs) }
        }
    }
}
