import ParkLinkProtocol
import ParkLinkSystem

/// The pipeline's append-only list of (gateway, boot) sessions.
///
/// Readings carry an index into it instead of a `String`, so the ring moves plain
/// values. The reader appends (rarely: once per boot), the writer looks up.
public final class SessionTable: SessionResolving, @unchecked Sendable {
    // @unchecked: `keys` is only touched under `lock`.
    private let lock = ConditionLock()
    private var keys: [SessionKey] = []
    private var indexByKey: [SessionKey: UInt32] = [:]

    public init() {}

    /// The index of `key`, adding it if new.
    public func index(for key: SessionKey) -> UInt32 {
        lock.withLock {
            if let i = indexByKey[key] { return i }
            let i = UInt32(keys.count)
            keys.append(key)
            indexByKey[key] = i
            return i
        }
    }

    public func key(for index: UInt32) -> SessionKey {
        lock.withLock { keys[Int(index)] }
    }

    public var count: Int { lock.withLock { keys.count } }
}
