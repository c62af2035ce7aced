import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem

/// Identifies a sensor across gateways.
public struct SensorKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var gatewayId: String
    public var sensor: UInt16
    public init(gatewayId: String, sensor: UInt16) {
        self.gatewayId = gatewayId
        self.sensor = sensor
    }
    public var description: String { "\(gatewayId)/\(sensor)" }
    public static func < (a: SensorKey, b: SensorKey) -> Bool {
        (a.gatewayId, a.sensor) < (b.gatewayId, b.sensor)
    }
}

/// What the appliance knows about one sensor from the readings committed so far.
public struct SensorState: Sendable {
    public var stats: SensorStats
    public var occupied: Bool
    public var distanceCm: UInt16?

    init() {
        // Five-minute buckets: an hour's mean in 12 buckets keeps 50,000 sensors in a few MiB.
        stats = SensorStats(bucketMs: 300_000, bucketCount: 12)
        occupied = false
    }
}

/// Per-sensor state between the writer and the sampler.
///
/// The writer records each batch after its commit (one lock per batch); the sampler
/// takes a snapshot (one lock, an O(1) copy-on-write copy). The reader never touches
/// this lock, so however slow the sampler is, the reader cannot be held up by it.
public final class SensorStateTable: @unchecked Sendable {
    // @unchecked: `states` is only touched under `lock`.
    private let lock = ConditionLock()
    private var states: [SensorKey: SensorState] = [:]

    public init() {}

    /// Folds committed readings in. Called on the writer thread.
    public func record(_ rows: UnsafeBufferPointer<StampedReading>, sessions: SessionResolving) {
        guard !rows.isEmpty else { return }
        var lastSession = UInt32.max
        var gateway = ""
        lock.lock()
        defer { lock.unlock() }
        for row in rows {
            if row.session != lastSession {
                lastSession = row.session
                gateway = sessions.key(for: row.session).gatewayId
            }
            Self.fold(row, into: &states[SensorKey(gatewayId: gateway, sensor: row.reading.sensor), default: SensorState()])
        }
    }

    /// One hash lookup per reading: the state is updated in place.
    @inline(__always)
    private static func fold(_ row: StampedReading, into state: inout SensorState) {
        state.stats.add(reading: row.reading, atMs: row.receivedAtMs)
        state.occupied = row.reading.occupied
        state.distanceCm = row.reading.distanceCm
    }

    /// A consistent copy for the sampler.
    public func snapshot() -> [SensorKey: SensorState] {
        lock.withLock { states }
    }

    public var count: Int { lock.withLock { states.count } }
}
