/// The messages of the gateway link protocol, version 1 (`shared/protocol/PROTOCOL.md`).
///
/// They are plain values with no heap storage except `Hello.gatewayId`, so that the
/// reader's hot path (one `Reading` per frame) never allocates.

/// How messages are framed on the wire.
public enum FrameEncoding: String, Sendable, CaseIterable {
    /// `$TYPE,f1,f2,...*CRC\r\n` lines.
    case text
    /// COBS-encoded `type | payload | crc16le` frames terminated by `0x00`.
    case binary
}

/// One sensor sample (`R`). The last four fields are optional: a sensor may have no
/// ultrasonic ranger or no power metering.
public struct Reading: Sendable, Hashable {
    public var seq: UInt32
    public var sensor: UInt16
    public var gatewayMs: UInt32
    public var occupied: Bool
    public var distanceCm: UInt16?
    public var voltageDv: UInt16?
    public var currentMa: UInt16?
    public var powerFactorPct: UInt8?

    public init(
        seq: UInt32, sensor: UInt16, gatewayMs: UInt32, occupied: Bool,
        distanceCm: UInt16? = nil, voltageDv: UInt16? = nil, currentMa: UInt16? = nil,
        powerFactorPct: UInt8? = nil
    ) {
        self.seq = seq
        self.sensor = sensor
        self.gatewayMs = gatewayMs
        self.occupied = occupied
        self.distanceCm = distanceCm
        self.voltageDv = voltageDv
        self.currentMa = currentMa
        self.powerFactorPct = powerFactorPct
    }

    /// power_w = voltage_dv/10 × current_ma/1000 × power_factor_pct/100, when all three are present.
    public var powerWatts: Double? {
        guard let v = voltageDv, let i = currentMa, let pf = powerFactorPct else { return nil }
        return Double(v) / 10 * Double(i) / 1000 * Double(pf) / 100
    }
}

public struct FirmwareVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: UInt8
    public var minor: UInt8
    public var patch: UInt8
    public init(major: UInt8, minor: UInt8, patch: UInt8) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }
    public var description: String { "\(major).\(minor).\(patch)" }
}

/// `HELLO`: sent by the gateway on boot and in answer to `PING`.
public struct Hello: Sendable, Hashable {
    /// 1–32 characters of `[A-Za-z0-9_-]`.
    public var gatewayId: String
    /// Random per boot; with `gatewayId` and `seq` it names one reading for ever.
    public var bootId: UInt32
    public var firmware: FirmwareVersion
    public var sensorCount: UInt16
    public init(gatewayId: String, bootId: UInt32, firmware: FirmwareVersion, sensorCount: UInt16) {
        self.gatewayId = gatewayId
        self.bootId = bootId
        self.firmware = firmware
        self.sensorCount = sensorCount
    }
}

/// `HB`: lets the host see loss at the tail of a quiet stream.
public struct Heartbeat: Sendable, Hashable {
    public var nextSeq: UInt32
    public var uptimeMs: UInt32
    /// Readings the gateway itself discarded (its transmit buffer was full).
    public var txDropped: UInt32
    public init(nextSeq: UInt32, uptimeMs: UInt32, txDropped: UInt32) {
        self.nextSeq = nextSeq
        self.uptimeMs = uptimeMs
        self.txDropped = txDropped
    }
}

public enum LEDColor: UInt8, Sendable, CaseIterable {
    case off = 0, green = 1, red = 2, blue = 3, amber = 4

    /// The text encoding's spelling: `OFF`, `GREEN`, `RED`, `BLUE`, `AMBER`.
    public var name: String {
        switch self {
        case .off: "OFF"
        case .green: "GREEN"
        case .red: "RED"
        case .blue: "BLUE"
        case .amber: "AMBER"
        }
    }

    public init?(name: String) {
        guard let c = LEDColor.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = c
    }
}

/// `LED`: host → gateway.
public struct LEDCommand: Sendable, Hashable {
    public var sensor: UInt16
    public var color: LEDColor
    public init(sensor: UInt16, color: LEDColor) {
        self.sensor = sensor
        self.color = color
    }
}

public enum Message: Sendable, Hashable {
    case hello(Hello)
    case reading(Reading)
    case heartbeat(Heartbeat)
    case led(LEDCommand)
    case ping
}

/// Why a frame was rejected. Each is a named counter in `parklink status`: a corrupt
/// frame costs that frame only, and is never lost silently.
public enum RejectReason: String, Sendable, CaseIterable, Codable {
    /// The checksum did not match the frame's bytes.
    case badCRC = "bad_crc"
    /// A text line with no `*CRC` trailer.
    case noChecksum = "no_checksum"
    /// A field out of range, of the wrong form, or the wrong number of fields.
    case malformed
    /// A text line over 128 bytes, or a binary frame longer than any message.
    case tooLong = "too_long"
    /// A type the protocol does not define.
    case unknownType = "unknown_type"
    /// A binary frame whose COBS encoding is invalid (a zero byte inside a run, a short frame).
    case badFraming = "bad_framing"
}
