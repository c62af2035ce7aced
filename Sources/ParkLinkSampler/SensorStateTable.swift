import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem

/// Per-sensor state between the writer and the sampler.
///
/// The writer records each batch after its commit (one lock per batch, one array index
/// per reading); the sampler takes a snapshot (one lock, an O(1) copy-on-write copy).
/// The reader never touches this lock, so however slow the sampler is, the reader cannot
/// be held up by it.
public final class SensorStateTable: @unchecked Sendable {
    // @unchecked: `gateways` is only touched under `lock`.
    private let lock = ConditionLock()
    private var gateways: [String: GatewaySensorBlock] = [:]

    public init() {}

    /// Folds committed readings in. Called on the writer thread.
    public func record(_ rows: UnsafeBufferPointer<StampedReading>, sessions: SessionResolving) {
        guard !rows.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        var i = 0
        while i < rows.count {
            // One gateway's run of rows: take its block out of the dictionary so it is
            // uniquely referenced and mutated in place, without a hash per reading.
            let session = rows[i].session
            let gateway = sessions.key(for: session).gatewayId
            var block = gateways.removeValue(forKey: gateway) ?? GatewaySensorBlock()
            while i < rows.count && rows[i].session == session {
                block.add(rows[i].reading, atMs: rows[i].receivedAtMs)
                i += 1
            }
            gateways[gateway] = block
        }
    }

    /// A consistent copy for the sampler.
    public func snapshot() -> [String: GatewaySensorBlock] {
        lock.withLock { gateways }
    }

    public var count: Int { lock.withLock { gateways.values.reduce(0) { $0 + $1.count } } }
}
