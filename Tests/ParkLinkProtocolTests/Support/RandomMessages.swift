import ParkLinkProtocol

/// SplitMix64: a seeded generator, so a failing random test fails the same way again.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RandomMessages {
    static let idCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

    /// Values at the edges turn up often: small random numbers rarely reach them.
    static func edgy<T: FixedWidthInteger>(_: T.Type, in range: ClosedRange<T> = T.min...T.max,
                                           using g: inout SeededGenerator) -> T {
        switch Int.random(in: 0..<4, using: &g) {
        case 0: range.lowerBound
        case 1: range.upperBound
        default: T.random(in: range, using: &g)
        }
    }

    static func optional<T>(_ value: T, using g: inout SeededGenerator) -> T? {
        Bool.random(using: &g) ? value : nil
    }

    static func reading(using g: inout SeededGenerator) -> Reading {
        Reading(
            seq: edgy(UInt32.self, using: &g), sensor: edgy(UInt16.self, using: &g),
            gatewayMs: edgy(UInt32.self, using: &g), occupied: Bool.random(using: &g),
            distanceCm: optional(edgy(UInt16.self, using: &g), using: &g),
            voltageDv: optional(edgy(UInt16.self, using: &g), using: &g),
            currentMa: optional(edgy(UInt16.self, using: &g), using: &g),
            powerFactorPct: optional(edgy(UInt8.self, in: 0...100, using: &g), using: &g))
    }

    static func message(using g: inout SeededGenerator) -> Message {
        switch Int.random(in: 0..<10, using: &g) {
        case 0:
            let length = Int.random(in: 1...32, using: &g)
            return .hello(
                Hello(
                    gatewayId: String((0..<length).map { _ in idCharacters.randomElement(using: &g)! }),
                    bootId: edgy(UInt32.self, using: &g),
                    firmware: FirmwareVersion(
                        major: edgy(UInt8.self, using: &g), minor: edgy(UInt8.self, using: &g),
                        patch: edgy(UInt8.self, using: &g)),
                    sensorCount: edgy(UInt16.self, using: &g)))
        case 1:
            return .heartbeat(
                Heartbeat(
                    nextSeq: edgy(UInt32.self, using: &g), uptimeMs: edgy(UInt32.self, using: &g),
                    txDropped: edgy(UInt32.self, using: &g)))
        case 2:
            return .led(LEDCommand(sensor: edgy(UInt16.self, using: &g), color: LEDColor.allCases.randomElement(using: &g)!))
        case 3:
            return .ping
        default:
            return .reading(reading(using: &g))
        }
    }

    static func messages(_ count: Int, seed: UInt64) -> [Message] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in message(using: &g) }
    }
}

func encodeAll(_ messages: [Message], as encoding: FrameEncoding) -> [UInt8] {
    var bytes: [UInt8] = []
    for message in messages { MessageEncoder.append(message, as: encoding, to: &bytes) }
    return bytes
}
