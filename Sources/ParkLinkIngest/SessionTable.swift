import ParkLinkProtocol
import ParkLinkSystem

/// The pipeline's append-only list of (gateway, boot) sessions.
///
/// Readings carry an index into it instead of a `String`, so the ring moves plain
/// values. The reader appends (rarely: once per boot), the writer looks up.
///
/// Never shrinks, by design: a reading in the ring, in the writer's batch or in the spool
/// may be resolved to its key long after its session ended (a spool drains hours later),
/// so an index must name the same session for the life of the process. Evicting a session
/// would mean proving that no reading anywhere still carries its index, on the hot path;
/// a faulty gateway that keeps changing its id or boot id is held off instead by refusing
/// new sessions past a limit (`admit(_:limit:)`, `SessionTracker.Config.maxSessions`).
public final class SessionTable: SessionResolving, @unchecked Sendable {
    // @unchecked: `keys` is only touched under `lock`.
    private let lock = ConditionLock()
    private var keys: [SessionKey] = []
    private var indexByKey: [SessionKey: UInt32] = [:]

    public init() {}

    /// The index of `key`, adding it if new, whatever the table's size. For readings that
    /// exist already (the spool's, from an earlier run): they must be stored, and their
    /// number is bounded by what the spool could hold.
    public func index(for key: SessionKey) -> UInt32 {
        lock.withLock { indexLocked(key) }
    }

    /// The index of `key` if the table knows it or holds fewer than `limit` sessions (it is
    /// then added); nil if it would be one session too many. Checked and added under one
    /// lock, so the writer adding a spooled session at the same moment cannot push the
    /// table past the limit by more than that session.
    public func admit(_ key: SessionKey, limit: Int) -> UInt32? {
        lock.withLock {
            if let i = indexByKey[key] { return i }
            guard keys.count < limit else { return nil }
            return indexLocked(key)
        }
    }

    private func indexLocked(_ key: SessionKey) -> UInt32 {
        if let i = indexByKey[key] { return i }
        let i = UInt32(keys.count)
        keys.append(key)
        indexByKey[key] = i
        return i
    }

    public func key(for index: UInt32) -> SessionKey {
        lock.withLock { keys[Int(index)] }
    }

    public var count: Int { lock.withLock { keys.count } }
}
