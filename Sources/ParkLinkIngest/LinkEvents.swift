import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem

/// Facts about the link that the writer stores next to the readings, in the same
/// transaction as the next batch: a new session, a gap in `seq`.
public enum LinkEvent: Sendable, Equatable {
    /// A HELLO, or a session the appliance had to name itself (`hello == nil`) because
    /// readings arrived and no HELLO came in time.
    case session(SessionKey, hello: Hello?, atMs: Int64)
    /// `count` readings starting at `firstMissing` never arrived.
    case gap(SessionKey, firstMissing: UInt32, count: UInt32, atMs: Int64)
}

/// The reader's outbox for `LinkEvent`s. Small and rare, so a plain locked array.
public final class LinkEventQueue: @unchecked Sendable {
    private let lock = ConditionLock()
    private var events: [LinkEvent] = []

    public init() {}

    public func append(_ e: LinkEvent) { lock.withLock { events.append(e) } }

    public func takeAll() -> [LinkEvent] {
        lock.withLock {
            defer { events.removeAll(keepingCapacity: true) }
            return events
        }
    }
}
