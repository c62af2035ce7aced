import ParkLinkProtocol

/// Builders for frames the encoder would never write: a test states the fields, and the
/// builder adds a correct checksum, so that only the fault under test is wrong.
enum Frames {
    /// `$body*CRC\r\n` with the correct CRC over `body`.
    static func textLine(_ body: String, lowercaseCRC: Bool = false, carriageReturn: Bool = true) -> [UInt8] {
        let crc = CRC16.checksum(Array(body.utf8))
        var hex = String(crc, radix: 16, uppercase: !lowercaseCRC)
        hex = String(repeating: "0", count: 4 - hex.count) + hex
        return Array("$\(body)*\(hex)\(carriageReturn ? "\r" : "")\n".utf8)
    }

    /// `type | payload | crc16le`, COBS-stuffed, with its delimiter.
    static func binary(type: UInt8, payload: [UInt8]) -> [UInt8] {
        binary(unencoded: [type] + payload)
    }

    /// `unencoded | crc16le(unencoded)`, COBS-stuffed, with its delimiter.
    static func binary(unencoded: [UInt8]) -> [UInt8] {
        let crc = CRC16.checksum(unencoded)
        return COBS.encode(unencoded + [UInt8(crc & 0xFF), UInt8(crc >> 8)]) + [0]
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// A binary `R` payload with every byte given, so a test can break any of them.
    static func readingPayload(
        seq: UInt32 = 7, sensor: UInt16 = 3, gatewayMs: UInt32 = 1000, flags: UInt8,
        distance: UInt16 = 0, voltage: UInt16 = 0, current: UInt16 = 0, powerFactor: UInt8 = 0
    ) -> [UInt8] {
        le32(seq) + le16(sensor) + le32(gatewayMs) + [flags] + le16(distance) + le16(voltage)
            + le16(current) + [powerFactor]
    }
}
