import ParkLinkProtocol
import ParkLinkSystem

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
