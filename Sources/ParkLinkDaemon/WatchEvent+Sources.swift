import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkStore

/// The `WatchEvent` of each thing that happens, live or read back from the database; the
/// same happening gets the same `key` either way, so a replay and the live stream that
/// follows it never show it twice.
extension WatchEvent {
    /// A committed change of a bay's occupancy.
    init(bay e: OccupancyEvent, zones: ZoneMap, replayed: Bool) {
        self.init(kind: "bay", event: e.arrival ? "arrival" : "departure", atMs: e.atMs,
                  key: "bay/\(e.gatewayId)/\(e.bootId)/\(e.seq)", sensor: "\(e.gatewayId)/\(e.sensor)",
                  zone: e.zoneId ?? zones.zoneId(of: e.sensor), bay: zones.bay(of: e.sensor),
                  state: e.arrival ? "occupied" : "free", replayed: replayed)
    }

    /// An alert opened (`raised`) or resolved; nil for an acknowledgement.
    init?(alert t: AlertTransition, zones: ZoneMap) {
        switch t {
        case .opened(let a): self.init(alert: AlertRecord(a), raised: true, zones: zones, replayed: false)
        case .resolved(let a): self.init(alert: AlertRecord(a), raised: false, zones: zones, replayed: false)
        case .acknowledged: return nil
        }
    }

    init(alert a: AlertRecord, raised: Bool, zones: ZoneMap, replayed: Bool) {
        let at = raised ? a.createdAtMs : a.resolvedAtMs ?? a.createdAtMs
        var zone: String?
        if let s = a.sensorId {
            zone = zones.zoneId(of: s)
        } else if a.subject.hasPrefix(AlertSubject.zonePrefix) {
            zone = String(a.subject.dropFirst(AlertSubject.zonePrefix.count))
        }
        let sensor = a.gatewayId.flatMap { g in a.sensorId.map { "\(g)/\($0)" } }
        self.init(kind: "alert", event: raised ? "raised" : "resolved", atMs: at,
                  key: "alert/\(raised ? "raised" : "resolved")/\(a.id)", sensor: sensor, zone: zone,
                  bay: a.sensorId.flatMap(zones.bay(of:)), replayed: replayed)
        alert_id = a.id
        alert_type = a.type
        severity = a.severity
        subject = a.subject
        message = a.message
    }

    /// An override set or ended, live.
    init(override change: OverrideChange, zones: ZoneMap) {
        switch change {
        case .set(let o):
            self.init(override: o, event: "set", atMs: o.setAtMs, by: o.setBy, state: o.state, zones: zones, replayed: false)
        case .ended(let o, let how, let at, let by):
            self.init(override: o, event: how.rawValue, atMs: at, by: by, state: how == .replaced ? o.state : "auto", zones: zones,
                      replayed: false)
        }
    }

    init(override o: BayOverride, event: String, atMs: Int64, by: String?, state: String, zones: ZoneMap, replayed: Bool) {
        self.init(kind: "override", event: event, atMs: atMs, key: "override/\(event == "set" ? "set" : "ended")/\(o.id)",
                  sensor: o.bay.description, zone: o.zone ?? zones.zoneId(of: o.bay.sensor), bay: zones.bay(of: o.bay.sensor),
                  state: state, replayed: replayed)
        override_id = o.id
        self.by = by
        reason = o.reason
        expires_at = o.expiresAtMs.flatMap(Timestamps.iso)
    }

    /// One item of the database's history (`watch --since`).
    init?(history item: WatchHistory.Item, zones: ZoneMap) {
        switch item {
        case .bay(let e):
            self.init(bay: e, zones: zones, replayed: true)
        case .alertRaised(let a):
            self.init(alert: a, raised: true, zones: zones, replayed: true)
        case .alertResolved(let a):
            self.init(alert: a, raised: false, zones: zones, replayed: true)
        case .overrideSet(let r):
            guard let o = BayOverride(record: r) else { return nil }
            self.init(override: o, event: "set", atMs: r.setAtMs, by: o.setBy, state: o.state, zones: zones, replayed: true)
        case .overrideEnded(let r):
            guard let o = BayOverride(record: r), let at = r.endedAtMs else { return nil }
            let by = r.endedByUid.map { uid in r.endedByUser.map { "\($0) (uid \(uid))" } ?? "uid \(uid)" }
            let how = r.endReason ?? "auto"
            self.init(override: o, event: how, atMs: at, by: by, state: how == "replaced" ? o.state : "auto", zones: zones,
                      replayed: true)
        }
    }

    /// Whether a subscriber to `zone` (nil: everything) sees this event.
    func belongs(to zone: String?) -> Bool { zone == nil || self.zone == zone }
}
