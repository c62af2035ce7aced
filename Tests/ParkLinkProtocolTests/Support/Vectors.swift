import Foundation
import ParkLinkProtocol

/// `Fixtures/vectors.json`, the worked examples of PROTOCOL.md, as test arguments.
struct Vectors: Decodable, Sendable {
    let text: [TextVector]
    let invalidText: [InvalidTextVector]
    let binary: [BinaryVector]

    static let all: Vectors = {
        guard let url = Bundle.module.url(forResource: "vectors", withExtension: "json", subdirectory: "Fixtures")
        else { fatalError("Fixtures/vectors.json is missing from the test bundle") }
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(Vectors.self, from: Data(contentsOf: url))
        } catch {
            fatalError("Fixtures/vectors.json does not parse: \(error)")
        }
    }()
}

struct TextVector: Decodable, Sendable, CustomStringConvertible {
    let line: String
    let decoded: ExpectedMessage
    var bytes: [UInt8] { Array(line.utf8) }
    var description: String { line.trimmingCharacters(in: .newlines) }
}

struct InvalidTextVector: Decodable, Sendable, CustomStringConvertible {
    let line: String
    let why: String
    var bytes: [UInt8] { Array(line.utf8) }
    var description: String { "\(why): \(line.prefix(48))" }

    /// The vectors say why in words; the decoder counts it under one of these.
    var reason: RejectReason {
        switch why {
        case "crc mismatch": .badCRC
        case "no checksum": .noChecksum
        case "longer than 128 bytes": .tooLong
        case "unknown type": .unknownType
        default: .malformed
        }
    }
}

struct BinaryVector: Decodable, Sendable, CustomStringConvertible {
    let unencodedHex: String
    let wireHex: String
    let decoded: ExpectedMessage
    var unencoded: [UInt8] { bytes(fromHex: unencodedHex) }
    var wire: [UInt8] { bytes(fromHex: wireHex) }
    var description: String { wireHex }
}

/// The `decoded` object of a vector: every field any type has, absent or null when not.
struct ExpectedMessage: Decodable, Sendable {
    let type: String
    let gatewayId: String?
    let bootId: UInt32?
    let firmware: String?
    let sensorCount: UInt16?
    let seq: UInt32?
    let sensor: UInt16?
    let tMs: UInt32?
    let occupied: Bool?
    let distanceCm: UInt16?
    let voltageDv: UInt16?
    let currentMa: UInt16?
    let powerFactorPct: UInt8?
    let nextSeq: UInt32?
    let uptimeMs: UInt32?
    let txDropped: UInt32?
    let color: String?

    var message: Message {
        switch type {
        case "hello":
            let parts = firmware!.split(separator: ".").map { UInt8($0)! }
            return .hello(
                Hello(
                    gatewayId: gatewayId!, bootId: bootId!,
                    firmware: FirmwareVersion(major: parts[0], minor: parts[1], patch: parts[2]),
                    sensorCount: sensorCount!))
        case "reading":
            return .reading(
                Reading(
                    seq: seq!, sensor: sensor!, gatewayMs: tMs!, occupied: occupied!,
                    distanceCm: distanceCm, voltageDv: voltageDv, currentMa: currentMa,
                    powerFactorPct: powerFactorPct))
        case "heartbeat":
            return .heartbeat(Heartbeat(nextSeq: nextSeq!, uptimeMs: uptimeMs!, txDropped: txDropped!))
        case "led":
            return .led(LEDCommand(sensor: sensor!, color: LEDColor(name: color!)!))
        case "ping":
            return .ping
        default:
            fatalError("vector of unknown type \(type)")
        }
    }
}

func bytes(fromHex hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    precondition(digits.count % 2 == 0, "odd-length hex")
    return stride(from: 0, to: digits.count, by: 2).map {
        UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)!
    }
}
