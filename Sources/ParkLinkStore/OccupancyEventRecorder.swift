import ParkLinkProtocol

/// A change of a bay's `occupied`: a car arrived or left.
public struct OccupancyEvent: Sendable, Hashable {
    public var gatewayId: String
    public var bootId: UInt32
    /// The seq of the reading that carried the change: with the gateway and boot, the key.
    public var seq: UInt32
    public var sensor: UInt16
    public var zoneId: String?
    public var arrival: Bool
    public var atMs: Int64

    public init(gatewayId: String, bootId: UInt32, seq: UInt32, sensor: UInt16, zoneId: String?, arrival: Bool, atMs: Int64) {
        self.gatewayId = gatewayId
        self.bootId = bootId
        self.seq = seq
        self.sensor = sensor
        self.zoneId = zoneId
        self.arrival = arrival
        self.atMs = atMs
    }
}

/// Writes occupancy events in the caller's transaction, next to the readings that carry
/// them. Keyed by the reading, so a replayed batch adds nothing (INSERT IGNORE).
/// Events are rare next to readings (a bay changes state a few times an hour), so one
/// prepared statement per event is cheap enough.
public final class OccupancyEventRecorder {
    public let connection: MariaDBConnection
    private var statement: PreparedStatement?

    static let sql = """
        INSERT IGNORE INTO occupancy_events (gateway_id, boot_id, seq, sensor_id, zone_id, event, at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    public func record(_ events: [OccupancyEvent]) throws {
        guard !events.isEmpty else { return }
        if statement == nil || statement?.isValid == false {
            statement?.close()
            statement = try connection.prepare(Self.sql)
        }
        for e in events {
            try statement!.execute([
                .string(e.gatewayId), .uint(UInt64(e.bootId)), .uint(UInt64(e.seq)), .uint(UInt64(e.sensor)),
                e.zoneId.map { .string($0) } ?? .null, .string(e.arrival ? "arrival" : "departure"),
                .dateTime(millisecondsSinceEpoch: e.atMs),
            ])
        }
    }
}
