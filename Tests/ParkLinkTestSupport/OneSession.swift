import ParkLinkProtocol

/// Rows that all belong to one gateway boot: the sessions of a test writing batches
/// straight through the store.
public struct OneSession: SessionResolving {
    public var key: SessionKey
    public init(key: SessionKey) { self.key = key }
    public func key(for index: UInt32) -> SessionKey { key }
}
