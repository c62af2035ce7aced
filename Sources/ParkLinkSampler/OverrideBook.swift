import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem

/// A technician's override of one bay: the bay counts as `occupied` (or free) whatever
/// its sensor says, until set back to auto or `expiresAtMs` passes.
public struct BayOverride: Sendable, Equatable {
    public var id: UInt64
    public var bay: SensorKey
    public var zone: String?
    public var occupied: Bool
    public var reason: String?
    /// Who set it, from the status socket's peer credentials.
    public var setByUid: UInt32
    public var setByUser: String?
    public var setByPid: Int32
    public var setAtMs: Int64
    public var expiresAtMs: Int64?

    public init(id: UInt64, bay: SensorKey, zone: String?, occupied: Bool, reason: String?, setByUid: UInt32,
                setByUser: String?, setByPid: Int32, setAtMs: Int64, expiresAtMs: Int64?) {
        self.id = id
        self.bay = bay
        self.zone = zone
        self.occupied = occupied
        self.reason = reason
        self.setByUid = setByUid
        self.setByUser = setByUser
        self.setByPid = setByPid
        self.setAtMs = setAtMs
        self.expiresAtMs = expiresAtMs
    }

    /// "alice (uid 1000)", or "uid 1000" for an account without a name.
    public var setBy: String { setByUser.map { "\($0) (uid \(setByUid))" } ?? "uid \(setByUid)" }

    public var state: String { occupied ? "occupied" : "free" }
}

/// How an override ended.
public enum OverrideEnd: String, Sendable, Equatable {
    /// Set back to auto by hand.
    case auto
    /// Its `--for` ran out (found by the sampler's tick).
    case expired
    /// A newer override of the same bay took its place.
    case replaced
}

/// A change of the override book, as `parklink watch` shows it and the LEDs follow it.
public enum OverrideChange: Sendable, Equatable {
    case set(BayOverride)
    case ended(BayOverride, OverrideEnd, atMs: Int64, by: String?)
}

/// The overrides in force, shared by the status thread (which sets them), the sampler
/// (which counts bays by them and ends them when they expire) and the live desk (which
/// lights the LEDs by them). Short locks, no I/O under them.
public final class OverrideBook: Sendable {
    private let active = Locked<[SensorKey: BayOverride]>([:])
    private let observer = Locked<(@Sendable (OverrideChange) -> Void)?>(nil)
    private let changes = Locked(0)

    public init() {}

    /// Who hears of every change (the live desk); called after the book has changed, on
    /// the thread that changed it, so it must only hand the change on.
    public func observe(_ body: @escaping @Sendable (OverrideChange) -> Void) {
        observer.withLock { $0 = body }
    }

    /// The override of `bay`, if one is in force.
    public func override(of bay: SensorKey) -> BayOverride? { active.withLock { $0[bay] } }

    /// Every override in force, oldest first.
    public var all: [BayOverride] { active.withLock { Array($0.values) }.sorted { $0.id < $1.id } }

    public var count: Int { active.withLock { $0.count } }

    /// Counts every change: a reader that saw the same number saw the same book.
    public var generation: Int { changes.withLock { $0 } }

    /// Puts `o` in force (it replaces the bay's earlier one, which the caller has ended).
    public func set(_ o: BayOverride) {
        active.withLock { $0[o.bay] = o }
        changed(.set(o))
    }

    /// Ends the bay's override if it is the one named (or any, with `id` nil); returns it.
    @discardableResult
    public func end(_ bay: SensorKey, id: UInt64? = nil, reason: OverrideEnd, atMs: Int64, by: String?) -> BayOverride? {
        let ended = active.withLock { book -> BayOverride? in
            guard let o = book[bay], id == nil || o.id == id else { return nil }
            book[bay] = nil
            return o
        }
        if let ended { changed(.ended(ended, reason, atMs: atMs, by: by)) }
        return ended
    }

    /// Ends and returns every override whose time has run out at `nowMs`.
    public func expire(nowMs: Int64) -> [BayOverride] {
        let due = active.withLock { book -> [BayOverride] in
            let due = book.values.filter { ($0.expiresAtMs ?? .max) <= nowMs }.sorted { $0.id < $1.id }
            for o in due { book[o.bay] = nil }
            return due
        }
        for o in due { changed(.ended(o, .expired, atMs: nowMs, by: nil)) }
        return due
    }

    /// The database's active overrides after a restart; one set since (a newer id) wins.
    public func resume(_ stored: [BayOverride]) {
        let added = active.withLock { book -> [BayOverride] in
            var added: [BayOverride] = []
            for o in stored where (book[o.bay]?.id ?? 0) < o.id {
                book[o.bay] = o
                added.append(o)
            }
            return added
        }
        for o in added { changed(.set(o)) }
    }

    private func changed(_ change: OverrideChange) {
        changes.withLock { $0 += 1 }
        observer.withLock { $0 }?(change)
    }
}

extension BayOverride {
    /// From a row of `overrides`; nil for a state this version does not know.
    public init?(record r: OverrideRecord) {
        guard r.state == "occupied" || r.state == "free" else { return nil }
        self.init(id: r.id, bay: SensorKey(gatewayId: r.gatewayId, sensor: r.sensorId), zone: r.zoneId,
                  occupied: r.state == "occupied", reason: r.reason, setByUid: r.setByUid, setByUser: r.setByUser,
                  setByPid: r.setByPid, setAtMs: r.setAtMs, expiresAtMs: r.expiresAtMs)
    }

    var record: OverrideRecord {
        OverrideRecord(id: id, gatewayId: bay.gatewayId, sensorId: bay.sensor, zoneId: zone, state: state, reason: reason,
                       setByUid: setByUid, setByUser: setByUser, setByPid: setByPid, setAtMs: setAtMs, expiresAtMs: expiresAtMs)
    }
}
