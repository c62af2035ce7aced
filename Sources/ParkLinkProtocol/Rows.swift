
/// One boot of one gateway: with `seq`, it names a reading for ever.
public struct SessionKey: Sendable, Hashable, CustomStringConvertible {
    public var gatewayId: String
    public var bootId: UInt32
    public init(gatewayId: String, bootId: UInt32) {
        self.gatewayId = gatewayId
        self.bootId = bootId
    }
    public var description: String {
        "\(gatewayId)/\(String(bootId, radix: 16, uppercase: true))"
    }
}

/// A decoded reading as it travels from the reader to the store.
///
/// A trivial value (no references) so that the ring buffer moves it with plain memory
/// copies: the session is an index into a `SessionTable` instead of a `String`.
public struct StampedReading: Sendable, Hashable {
    /// Index of the reading's (gateway, boot) in the pipeline's `SessionTable`.
    public var session: UInt32
    /// Host UTC time, in milliseconds since the Unix epoch, when the frame's last byte arrived.
    public var receivedAtMs: Int64
    public var reading: Reading

    public init(session: UInt32, receivedAtMs: Int64, reading: Reading) {
        self.session = session
        self.receivedAtMs = receivedAtMs
        self.reading = reading
    }
}

/// Something that can tell which session a `StampedReading.session` index names.
/// The pipeline's table is append-only, so a resolved key never changes.
public protocol SessionResolving: Sendable {
    func key(for index: UInt32) -> SessionKey
}

/// Identifies a sensor across gateways.
public struct SensorKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var gatewayId: String
    public var sensor: UInt16
    public init(gatewayId: String, sensor: UInt16) {
        self.gatewayId = gatewayId
        self.sensor = sensor
    }
    public var description: String { "\(gatewayId)/\(sensor)" }
    public static func < (a: SensorKey, b: SensorKey) -> Bool {
        (a.gatewayId, a.sensor) < (b.gatewayId, b.sensor)
    }
}
