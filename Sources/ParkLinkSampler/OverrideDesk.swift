import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkStore

/// What `parklink override` needs: set a bay's state by hand, or give it back to its
/// sensor, recorded in the `overrides` table before it takes effect (an override nobody
/// can find afterwards is not one). Typed results only; the daemon's status protocol puts
/// them on the wire.
public final class OverrideDesk: Sendable {
    public let book: OverrideBook
    let dsn: DSN
    let appliance: String
    let zones: ZoneMap

    public init(book: OverrideBook, dsn: DSN, appliance: String, zones: ZoneMap) {
        self.book = book
        self.dsn = dsn
        self.appliance = appliance
        self.zones = zones
    }

    /// The person giving the command, from the status socket's peer credentials.
    public struct Actor: Sendable, Equatable {
        public var uid: UInt32
        public var user: String?
        public var pid: Int32
        public init(uid: UInt32, user: String?, pid: Int32) {
            self.uid = uid
            self.user = user
            self.pid = pid
        }

        var label: String { user.map { "\($0) (uid \(uid))" } ?? "uid \(uid)" }
    }

    public enum Outcome: Sendable, Equatable {
        /// In force now; `replaced` is the bay's earlier override, ended by this one.
        case set(BayOverride, replaced: BayOverride?)
        /// Set back to auto: the override that ended, or nil when the bay had none.
        case cleared(BayOverride?)
    }

    /// Overrides `bay` to `occupied` (or free), for `seconds` (nil: until set back), or
    /// with `occupied` nil gives it back to its sensor. Written to the database first,
    /// through a short-lived connection of the calling thread's own; a database that does
    /// not answer is an error and nothing changes.
    public func apply(bay: SensorKey, occupied: Bool?, reason: String?, seconds: Int?, by actor: Actor,
                      nowMs: Int64) throws -> Outcome {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        let c = try Connections.open(dsn, profile: .interactive)
        defer { c.close() }
        let repository = OverrideRepository(connection: c, appliance: appliance)
        guard let occupied else {
            let ended = try repository.endActive(gateway: bay.gatewayId, sensor: bay.sensor, atMs: nowMs, reason: OverrideEnd.auto.rawValue,
                                                 byUid: actor.uid, byUser: actor.user)
            // The book may hold one the database does not (never, barring a hand edit):
            // either way the bay is back on its sensor.
            let fromBook = book.end(bay, reason: .auto, atMs: nowMs, by: actor.label)
            return .cleared(fromBook ?? ended.flatMap(BayOverride.init(record:)))
        }
        let new = BayOverride(id: 0, bay: bay, zone: zones.zoneId(of: bay.sensor), occupied: occupied, reason: reason,
                              setByUid: actor.uid, setByUser: actor.user, setByPid: actor.pid, setAtMs: nowMs,
                              expiresAtMs: seconds.map { nowMs + Int64($0) * 1_000 })
        let (stored, replacedRecord) = try repository.set(new.record)
        let replaced = book.end(bay, reason: .replaced, atMs: nowMs, by: actor.label)
            ?? replacedRecord.flatMap(BayOverride.init(record:))
        var inForce = new
        inForce.id = stored.id
        book.set(inForce)
        return .set(inForce, replaced: replaced)
    }
}
