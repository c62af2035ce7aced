/// A change of a bay's `occupied`, as `occupancy_events` holds it: a car arrived or left.
/// What the live side (LEDs, `watch`) is handed after a commit and what `watch --since`
/// reads back; the writer itself works on `OccupancyChange` (a session index, no strings).
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
