/// Writes `type | payload | crc16le` frames, COBS-stuffed and delimited.
///
/// The frame is assembled in a stack buffer and stuffed straight into the output, so a
/// reading costs no allocation beyond the output's own growth.
enum BinaryMessageWriter {
    /// Type, a `HELLO` with the longest id a length byte can express, and the CRC.
    private static let maxUnencodedBytes = 1 + Wire.PayloadLength.helloFixed + 255 + 2

    static func append(_ message: Message, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: maxUnencodedBytes, alignment: 8) { buffer in
            var frame = FrameWriter(base: buffer.baseAddress!)
            switch message {
            case .reading(let r):
                frame.u8(Wire.TypeCode.reading)
                frame.u32(r.seq)
                frame.u16(r.sensor)
                frame.u32(r.gatewayMs)
                var flags: UInt8 = r.occupied ? Wire.ReadingFlag.occupied : 0
                if r.distanceCm != nil { flags |= Wire.ReadingFlag.distance }
                if r.voltageDv != nil { flags |= Wire.ReadingFlag.voltage }
                if r.currentMa != nil { flags |= Wire.ReadingFlag.current }
                if r.powerFactorPct != nil { flags |= Wire.ReadingFlag.powerFactor }
                frame.u8(flags)
                frame.u16(r.distanceCm ?? 0)
                frame.u16(r.voltageDv ?? 0)
                frame.u16(r.currentMa ?? 0)
                frame.u8(r.powerFactorPct ?? 0)
            case .heartbeat(let hb):
                frame.u8(Wire.TypeCode.heartbeat)
                frame.u32(hb.nextSeq)
                frame.u32(hb.uptimeMs)
                frame.u32(hb.txDropped)
            case .hello(let h):
                let id = h.gatewayId.utf8
                precondition(id.count <= 255, "HELLO gateway id longer than a length byte can express")
                frame.u8(Wire.TypeCode.hello)
                frame.u8(UInt8(id.count))
                for byte in id { frame.u8(byte) }
                frame.u32(h.bootId)
                frame.u8(h.firmware.major)
                frame.u8(h.firmware.minor)
                frame.u8(h.firmware.patch)
                frame.u16(h.sensorCount)
            case .led(let led):
                frame.u8(Wire.TypeCode.led)
                frame.u16(led.sensor)
                frame.u8(led.color.rawValue)
            case .ping:
                frame.u8(Wire.TypeCode.ping)
            }
            frame.u16(CRC16.checksum(UnsafeRawBufferPointer(start: buffer.baseAddress, count: frame.count)))
            COBS.encode(UnsafeRawBufferPointer(start: buffer.baseAddress, count: frame.count), appendingTo: &out)
            out.append(0)
        }
    }

    /// Little-endian writes into a buffer the caller sized for the largest frame.
    private struct FrameWriter {
        let base: UnsafeMutableRawPointer
        private(set) var count = 0

        init(base: UnsafeMutableRawPointer) { self.base = base }

        mutating func u8(_ value: UInt8) {
            base.storeBytes(of: value, toByteOffset: count, as: UInt8.self)
            count += 1
        }
        mutating func u16(_ value: UInt16) {
            base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt16.self)
            count += 2
        }
        mutating func u32(_ value: UInt32) {
            base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt32.self)
            count += 4
        }
    }
}
