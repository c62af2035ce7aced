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

    @Test("the table agrees with the bitwise definition on every two-byte input")
    func tableMatchesDefinition() {
        var mismatches = 0
        for a in 0...255 {
            for b in 0...255 where CRC16.checksum([UInt8(a), UInt8(b)]) != Self.bitwise([UInt8(a), UInt8(b)]) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
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
