import Foundation
import ParkLinkProtocol
import ParkLinkSampler

/// The payloads of the live requests of the status protocol: `override` (set a bay's
/// state by hand) and `watch` (a stream of what happens).

/// What `parklink override` asks.
///
/// On the wire: `{"request":"override","sensor":12,"gateway_id":"GW-01","state":"occupied",
/// "reason":"coned off","for_seconds":3600,"version":1}`; `gateway_id`, `reason` and
/// `for_seconds` may be left out (no gateway: the one that reported the sensor).
public struct OverrideRequest: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable, Codable {
        case occupied, free, auto
    }

    public var gateway: String?
    public var sensor: UInt16
    public var state: State
    public var reason: String?
    /// How long it lasts; nil: until set back to auto.
    public var seconds: Int?

    public static let maxSeconds = 366 * 86_400
    public static let maxReasonCharacters = 255

    public init(gateway: String? = nil, sensor: UInt16, state: State, reason: String? = nil, seconds: Int? = nil) {
        self.gateway = gateway
        self.sensor = sensor
        self.state = state
        self.reason = reason
        self.seconds = seconds
    }

    /// Why the request cannot be carried out as it stands (nil: it can).
    public var problem: String? {
        if let g = gateway, !(1...32).contains(g.count) || !g.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            return "override: \"gateway_id\" must be 1–32 characters of A–Z a–z 0–9 _ -"
        }
        if let r = reason, r.count > Self.maxReasonCharacters {
            return "override: \"reason\" is \(r.count) characters, more than \(Self.maxReasonCharacters)"
        }
        if let s = seconds {
            if state == .auto { return "override: \"for_seconds\" makes no sense with state auto" }
            if !(1...Self.maxSeconds).contains(s) { return "override: \"for_seconds\" must be 1…\(Self.maxSeconds) (a year)" }
        }
        return nil
    }

    /// A bay as a technician names it: `12`, or `GW-01/12` (as alerts and status show
    /// sensors); nil for anything else.
    public static func bay(_ text: String) -> (gateway: String?, sensor: UInt16)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let sensor = UInt16(parts.last!) else { return nil }
        guard parts.count == 2 else { return (nil, sensor) }
        let o = OverrideRequest(gateway: String(parts[0]), sensor: sensor, state: .auto)
        return o.problem == nil ? (o.gateway, sensor) : nil
    }

    /// The bay as the CLI names it: `GW-01/12`, or `12` without a gateway.
    public var bayName: String { gateway.map { "\($0)/\(sensor)" } ?? String(sensor) }
}

/// One override as the replies and `status` show it.
public struct OverrideRow: Codable, Sendable, Equatable {
    public var id: UInt64
    /// `GATEWAY/SENSOR`.
    public var sensor: String
    @ExplicitNull public var zone: String?
    /// `occupied` or `free`.
    public var state: String
    @ExplicitNull public var reason: String?
    public var set_by: String
    public var set_at: String
    @ExplicitNull public var expires_at: String?

    public init(_ o: BayOverride) {
        id = o.id
        sensor = o.bay.description
        zone = o.zone
        state = o.state
        reason = o.reason
        set_by = o.setBy
        set_at = Timestamps.iso(ms: o.setAtMs) ?? ""
        expires_at = o.expiresAtMs.flatMap(Timestamps.iso)
    }
}

/// The answer to `override`, as `parklink override` prints it.
public struct OverrideReply: Codable, Sendable, Equatable {
    /// Always true (failures are `error` replies).
    public var ok: Bool
    public var sensor: String
    /// What was asked: `occupied`, `free` or `auto`.
    public var state: String
    /// The override now in force (null after `auto`).
    @ExplicitNull public var override: OverrideRow?
    /// The override this request ended (`auto`), or replaced; null when there was none.
    @ExplicitNull public var ended: OverrideRow?
    @ExplicitNull public var note: String?

    public init(sensor: String, state: String, override: OverrideRow?, ended: OverrideRow?, note: String? = nil) {
        ok = true
        self.sensor = sensor
        self.state = state
        self.override = override
        self.ended = ended
        self.note = note
    }
}

/// The first line of a `watch` stream: what it will show.
public struct WatchStart: Codable, Sendable, Equatable {
    @ExplicitNull public var zone: String?
    /// Replayed from the database from this time first (null: live only).
    @ExplicitNull public var since: String?

    public init(zone: String?, since: String?) {
        self.zone = zone
        self.since = since
    }
}

/// One line of `parklink watch --json`: a bay change, an alert raised or resolved, an
/// override set or ended. Every key is present on every line (null when it does not
/// apply to this kind).
public struct WatchEvent: Codable, Sendable, Equatable {
    /// `bay`, `alert` or `override`.
    public var kind: String
    /// bay: `arrival` or `departure`; alert: `raised` or `resolved`; override: `set`,
    /// `auto` (set back by hand), `expired` or `replaced`.
    public var event: String
    /// When it happened, UTC (a bay change: the reading's receive time).
    public var at: String
    /// `GATEWAY/SENSOR` of a bay (an alert about a zone or the appliance has none).
    @ExplicitNull public var sensor: String?
    @ExplicitNull public var zone: String?
    /// The bay's name from `[[bay]]`.
    @ExplicitNull public var bay: String?
    /// bay: `occupied` or `free` after the change; override: the state set, `auto` once ended.
    @ExplicitNull public var state: String?
    @ExplicitNull public var alert_id: UInt64?
    @ExplicitNull public var alert_type: String?
    @ExplicitNull public var severity: String?
    /// An alert's subject: `GATEWAY/SENSOR`, `zone:ID` or a component.
    @ExplicitNull public var subject: String?
    @ExplicitNull public var message: String?
    @ExplicitNull public var override_id: UInt64?
    /// Who set (or set back, or replaced) the override.
    @ExplicitNull public var by: String?
    @ExplicitNull public var reason: String?
    @ExplicitNull public var expires_at: String?
    /// From the database (`--since`), not live.
    public var replayed: Bool
    /// Names the happening across replay and live (not on the wire).
    public var key = ""
    /// `at` in milliseconds (not on the wire).
    public var atMs: Int64 = 0

    enum CodingKeys: String, CodingKey {
        case kind, event, at, sensor, zone, bay, state, alert_id, alert_type, severity, subject, message, override_id, by,
             reason, expires_at, replayed
    }

    public init(kind: String, event: String, atMs: Int64, key: String, sensor: String? = nil, zone: String? = nil,
                bay: String? = nil, state: String? = nil, replayed: Bool = false) {
        self.kind = kind
        self.event = event
        self.at = Timestamps.iso(ms: atMs) ?? ""
        self.atMs = atMs
        self.key = key
        self.sensor = sensor
        self.zone = zone
        self.bay = bay
        self.state = state
        self.replayed = replayed
    }

    /// Equal when the lines on the wire are: `key` and `atMs` are the sender's own.
    public static func == (a: WatchEvent, b: WatchEvent) -> Bool {
        (a.kind, a.event, a.at, a.replayed) == (b.kind, b.event, b.at, b.replayed)
            && (a.sensor, a.zone, a.bay, a.state) == (b.sensor, b.zone, b.bay, b.state)
            && (a.alert_id, a.alert_type, a.severity, a.subject, a.message) == (b.alert_id, b.alert_type, b.severity, b.subject, b.message)
            && (a.override_id, a.by, a.reason, a.expires_at) == (b.override_id, b.by, b.reason, b.expires_at)
    }

    /// One line for a person: local time, kind, what and where.
    public var line: String {
        let time = Self.localTime(atMs != 0 ? atMs : TimeText.milliseconds(iso: at) ?? 0)
        let place = [sensor, bay, zone.map { "zone \($0)" }].compactMap { $0 }.joined(separator: " ")
        switch kind {
        case "bay":
            return "\(time)  bay       \(place)  \(event), now \(state ?? "?")"
        case "alert":
            return "\(time)  alert     \(event) #\(alert_id.map(String.init) ?? "?") \(severity ?? "") \(alert_type ?? "") \(subject ?? ""): \(message ?? "")"
        default:
            let until = expires_at.map { " until \(Self.localTime(TimeText.milliseconds(iso: $0) ?? 0))" } ?? ""
            let why = reason.map { ": \($0)" } ?? ""
            let what = event == "set" ? "set \(state ?? "?")\(until)" : event
            return "\(time)  override  \(place) \(what) by \(by ?? "the daemon")\(why)"
        }
    }

    static func localTime(_ ms: Int64) -> String { TimeText.local(ms) }
}
