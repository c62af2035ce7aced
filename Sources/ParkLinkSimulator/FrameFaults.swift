import ParkLinkProtocol

/// Damage done to a frame after it was checksummed (`corruptFraction`).
///
/// Only the checksum itself is changed, so the frame stays well formed and every
/// receiver, whatever order it checks things in, rejects it as a bad CRC and nothing
/// else: a changed digit elsewhere could turn a field out of range (`malformed`), and a
/// changed byte could become a `$`, `\n` or `0x00` and split the frame in two.
enum FrameCorruption {
    /// Changes one CRC hex digit of the text line in `bytes[start...]` (`…*XXXX\r\n`).
    static func corruptText(_ bytes: inout [UInt8], from start: Int, random: inout SimulatorRandom) {
        precondition(bytes.count - start >= 8 && bytes[bytes.count - 7] == UInt8(ascii: "*"), "not a text frame")
        let digit = bytes.count - 6 + Int(random.next() % 4)
        let hex = Array("0123456789ABCDEF".utf8)
        let old = bytes[digit]
        let oldValue = hex.firstIndex(of: old) ?? 0
        bytes[digit] = hex[(oldValue + 1 + Int(random.next() % 15)) % 16]
    }

    /// Flips one bit of the CRC of the binary frame in `bytes[start...]` (COBS-encoded,
    /// ending in its `0x00`) and stuffs it again, so the COBS layer is intact.
    static func corruptBinary(_ bytes: inout [UInt8], from start: Int, random: inout SimulatorRandom) {
        let encodedCount = bytes.count - start - 1
        withUnsafeTemporaryAllocation(byteCount: encodedCount, alignment: 8) { scratch in
            let length = bytes.withUnsafeBytes { all in
                COBS.decode(UnsafeRawBufferPointer(rebasing: all[start..<(start + encodedCount)]), into: scratch)
            }
            guard let length, length >= 3 else { preconditionFailure("the encoder wrote an invalid COBS frame") }
            let crcByte = length - 1 - Int(random.next() % 2)
            scratch[crcByte] ^= UInt8(1) << UInt8(random.next() % 8)
            bytes.removeSubrange(start...)
            COBS.encode(UnsafeRawBufferPointer(rebasing: scratch[0..<length]), appendingTo: &bytes)
            bytes.append(0)
        }
    }
}

/// Noise between frames (`garbageFraction`), as a loose connector or EMI produces.
///
/// Text: 4–24 random bytes, none of them `$`, so the receiver skips them as noise
/// before the next line and no frame is lost. Binary: a burst of non-zero bytes
/// followed by a `0x00`, so it does not glue to the next frame; its first byte is
/// `0xFF`, a COBS code that claims 254 bytes, so the burst can never decode to a frame
/// (let alone a valid one) and a receiver rejects it as bad framing, exactly once.
enum NoiseBurst {
    static let maxBytes = 24

    /// Appends one burst; returns its length.
    static func append(to bytes: inout [UInt8], encoding: FrameEncoding, random: inout SimulatorRandom) -> Int {
        let length = 4 + Int(random.next() % UInt64(maxBytes - 3))
        switch encoding {
        case .text:
            for _ in 0..<length {
                var b = UInt8(truncatingIfNeeded: random.next())
                if b == UInt8(ascii: "$") { b = UInt8(ascii: "#") }
                bytes.append(b)
            }
        case .binary:
            bytes.append(0xFF)
            for _ in 0..<(length - 2) { bytes.append(UInt8(truncatingIfNeeded: random.next() % 255) + 1) }
            bytes.append(0)
        }
        return length
    }
}
