import Foundation

/// A zone of a facility: a set of bays with a capacity and a daily arrivals target.
public struct Zone: Sendable, Equatable, Codable {
    public var id: String
    public var facility: String
    public var capacity: Int
    /// Arrivals per day the operator aims for (efficiency % = arrivals ÷ target × 100).
    public var dailyTarget: Int?
    public var sensors: [UInt16]
    /// The zone's own parking tariff (integer cents per started hour); nil: the default.
    public var hourlyRateCents: Int?

    public init(id: String, facility: String, capacity: Int, dailyTarget: Int?, sensors: [UInt16],
                hourlyRateCents: Int? = nil) {
        self.id = id
        self.facility = facility
        self.capacity = capacity
        self.dailyTarget = dailyTarget
        self.sensors = sensors
        self.hourlyRateCents = hourlyRateCents
    }

    /// The zone a gateway's sensors count in when no configured zone has them: named after
    /// the gateway, as big as the number of such sensors, with no target or rate of its own.
    public static func gateway(_ gatewayId: String, sensors: Int) -> Zone {
        Zone(id: gatewayId, facility: gatewayId, capacity: sensors, dailyTarget: nil, sensors: [])
    }
}

/// Which zone and bay each sensor is. One appliance serves one gateway, so sensor ids
/// are unique within the map. A sensor missing from it still ingests and shows as
/// "unmapped".
public struct ZoneMap: Sendable, Equatable {
    public private(set) var zones: [Zone]
    private var zoneIndexBySensor: [UInt16: Int] = [:]
    private var bayNames: [UInt16: String]

    public struct Conflict: Error, Equatable, CustomStringConvertible {
        public var sensor: UInt16
        public var zones: [String]
        public var description: String { "sensor \(sensor) is in zones \(zones.joined(separator: " and "))" }
    }

    public init(zones: [Zone] = [], bays: [UInt16: String] = [:]) throws {
        self.zones = zones
        self.bayNames = bays
        for (i, z) in zones.enumerated() {
            for s in z.sensors {
                if let other = zoneIndexBySensor[s] {
                    throw Conflict(sensor: s, zones: [zones[other].id, z.id])
                }
                zoneIndexBySensor[s] = i
            }
        }
    }

    public var isEmpty: Bool { zones.isEmpty }

    public func zone(of sensor: UInt16) -> Zone? {
        zoneIndexBySensor[sensor].map { zones[$0] }
    }

    public func zoneId(of sensor: UInt16) -> String? {
        zoneIndexBySensor[sensor].map { zones[$0].id }
    }

    /// The zone a sensor counts in: its configured zone, else one named after its gateway,
    /// so that without a zone map every sensor still shows, per gateway.
    public func effectiveZoneId(of sensor: UInt16, gateway: String) -> String {
        zoneId(of: sensor) ?? gateway
    }

    /// The configured zones, then a gateway zone (`Zone.gateway`) for each gateway with
    /// sensors in no configured zone (`unmapped`: how many, by gateway), in gateway order.
    /// A gateway named like a configured zone adds its sensors to that zone's count only.
    public func effectiveZones(unmapped: [String: Int]) -> [Zone] {
        var out = zones
        for (gateway, n) in unmapped.sorted(by: { $0.key < $1.key }) where n > 0 && !zones.contains(where: { $0.id == gateway }) {
            out.append(.gateway(gateway, sensors: n))
        }
        return out
    }

    /// The bay's name: configured, else `ZONE-SENSOR`, else nil for an unmapped sensor.
    public func bay(of sensor: UInt16) -> String? {
        if let name = bayNames[sensor] { return name }
        return zoneId(of: sensor).map { "\($0)-\(sensor)" }
    }

    /// Parses a sensor list such as `"1-250, 300, 310-320"`.
    public static func parseSensorList(_ text: String) -> [UInt16]? {
        var out: [UInt16] = []
        for part in text.split(separator: ",") {
            let p = part.trimmingCharacters(in: .whitespaces)
            if let dash = p.firstIndex(of: "-") {
                guard let a = UInt16(p[..<dash].trimmingCharacters(in: .whitespaces)),
                      let b = UInt16(p[p.index(after: dash)...].trimmingCharacters(in: .whitespaces)), a <= b else { return nil }
                out.append(contentsOf: a...b)
            } else {
                guard let v = UInt16(p) else { return nil }
                out.append(v)
            }
        }
        return out.isEmpty ? nil : out
    }
}
