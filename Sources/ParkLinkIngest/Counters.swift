import ParkLinkProtocol
import ParkLinkSystem
import Synchronization

/// What the reader has seen on the link. Atomics, so `parklink status` and the sampler
/// read them without taking any lock the reader takes; the reader adds once per read()
/// chunk, not once per frame.
public final class LinkCounters: Sendable {
    public let connected = Atomic<Bool>(false)
    public let opens = Atomic<Int>(0)
    public let openFailures = Atomic<Int>(0)
    public let hangups = Atomic<Int>(0)
    public let bytes = Atomic<Int>(0)
    /// Frames that decoded into a valid message, of any type.
    public let frames = Atomic<Int>(0)
    /// Valid `R` frames.
    public let readings = Atomic<Int>(0)
    public let hellos = Atomic<Int>(0)
    public let heartbeats = Atomic<Int>(0)
    public let noiseBytes = Atomic<Int>(0)
    /// Link gaps (`GapReason.link`).
    public let gaps = Atomic<Int>(0)
    /// Readings that never arrived, by the gaps in `seq` (and `HB.next_seq`).
    public let missingReadings = Atomic<Int>(0)
    /// Gaps of readings the last run received and lost when it was killed
    /// (`GapReason.applianceRestart`): kept apart from link gaps, whose fix is elsewhere.
    public let applianceRestartGaps = Atomic<Int>(0)
    public let applianceRestartReadings = Atomic<Int>(0)
    public let unannouncedReboots = Atomic<Int>(0)
    /// Readings that waited for a HELLO and found no room (never in normal operation).
    public let droppedNoSession = Atomic<Int>(0)
    /// Readings of sessions refused because the session table was at its limit.
    public let droppedSessionLimit = Atomic<Int>(0)
    /// Sessions refused at the limit (a faulty gateway changing its id or boot id).
    public let sessionsRefused = Atomic<Int>(0)
    /// Readings now waiting for a HELLO.
    public let pendingNoSession = Atomic<Int>(0)
    /// Readings the gateway says it discarded itself (`HB.tx_dropped`, all sessions).
    public let gatewayTxDropped = Atomic<Int>(0)
    public let pingsSent = Atomic<Int>(0)
    public let commandsSent = Atomic<Int>(0)
    /// Downlink commands the port would not take at once (the reader never waits to write).
    public let commandsDropped = Atomic<Int>(0)
    /// Wall time of the last byte received, ms since the epoch (0: never).
    public let lastByteAtMs = Atomic<Int64>(0)
    private let rejectCounts: [RejectReason: AtomicCounter]
    private let _session = Locked<String?>(nil)

    /// The (gateway, boot) readings currently go to, e.g. `GW-01/9F3A11C2`.
    public var session: String? { _session.withLock { $0 } }
    public func setSession(_ s: String?) { _session.withLock { $0 = s } }

    public init() {
        rejectCounts = Dictionary(uniqueKeysWithValues: RejectReason.allCases.map { ($0, AtomicCounter()) })
    }

    public func addRejects(_ reason: RejectReason, _ n: Int) {
        rejectCounts[reason]!.value.add(n, ordering: .relaxed)
    }

    public func rejects(_ reason: RejectReason) -> Int {
        rejectCounts[reason]!.value.load(ordering: .relaxed)
    }

    public var totalRejects: Int { RejectReason.allCases.reduce(0) { $0 + rejects($1) } }
}

/// A heap cell for an atomic, so a dictionary can hold one per reject reason.
public final class AtomicCounter: Sendable {
    public let value = Atomic<Int>(0)
    public init() {}
}

extension Atomic where Value == Int {
    @inline(__always)
    public func add(_ n: Int) { if n != 0 { add(n, ordering: .relaxed) } }
    @inline(__always)
    public var value: Int { load(ordering: .relaxed) }
}
