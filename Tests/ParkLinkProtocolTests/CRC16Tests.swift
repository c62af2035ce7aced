import ParkLinkProtocol
import Testing

@Suite("CRC-16/CCITT-FALSE")
struct CRC16Tests {
    /// The definition, one bit at a time: what the table must agree with.
    static func bitwise(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    @Test("the check value of \"123456789\" is 0x29B1")
    func checkValue() {
        #expect(CRC16.checksum(Array("123456789".utf8)) == 0x29B1)
    }

    @Test("no bytes leave the initial value 0xFFFF")
    func empty() {
        #expect(CRC16.checksum([]) == 0xFFFF)
        #expect(CRC16().value == 0xFFFF)
    }

    @Test("the tables agree with the bitwise definition for every byte pair at every position of a 4-byte step")
    func tablesMatchDefinition() {
        var mismatches: [[UInt8]] = []
        for a in 0...255 {
            for b in 0...255 {
                let (a, b) = (UInt8(a), UInt8(b))
                // Two bytes take the one-at-a-time path; four and five the four-at-a-time one.
                for input in [[a, b], [a, b, 0x5A, 0xA5], [0x5A, 0xA5, a, b], [0x01, a, b, 0x80, a]]
                where CRC16.checksum(input) != Self.bitwise(input) {
                    mismatches.append(input)
                }
            }
        }
        #expect(mismatches.isEmpty)
    }

    @Test("random inputs of every length up to 100 match the bitwise definition")
    func randomInputs() {
        var g = SeededGenerator(seed: 0xC2C)
        for length in 0...100 {
            for _ in 0..<20 {
                let input = (0..<length).map { _ in UInt8.random(in: 0...255, using: &g) }
                #expect(CRC16.checksum(input) == Self.bitwise(input), "\(input)")
            }
        }
    }

    @Test("updating in pieces gives the one-shot checksum, at every split")
    func incremental() {
        let bytes = Array("R,4294967295,499,4294967295,1,65535,3000,65535,100".utf8)
        let whole = CRC16.checksum(bytes)
        #expect(whole == Self.bitwise(bytes))
        for split in 0...bytes.count {
            var crc = CRC16()
            bytes[..<split].withUnsafeBytes { crc.update($0) }
            bytes[split...].withUnsafeBytes { crc.update($0) }
            #expect(crc.value == whole, "split at \(split)")
        }
        var byteByByte = CRC16()
        for byte in bytes { byteByByte.update(byte: byte) }
        #expect(byteByByte.value == whole)
    }
}
