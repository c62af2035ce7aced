/// Turns one binary frame (COBS-encoded, delimiter removed) into a message or a reject.
///
/// Checks run outermost first, so each counter means one thing: bad stuffing is
/// `badFraming`, then a checksum over type and payload is `badCRC` (a corrupted type
/// byte is never counted as `unknownType`), and only then are type and fields judged.
@usableFromInline
enum BinaryMessageParser {
    /// Decodes and parses one frame of `count` (1…`BinaryFrameDecoder.maxFrameBytes`)
    /// encoded bytes.
    ///
    /// Out of line on purpose: once per frame is cheap, and here the frame is unstuffed
    /// into a stack buffer with no allocation.
    @usableFromInline
    static func parse(_ encoded: UnsafeRawPointer, count: Int) -> FrameOutcome {
        withUnsafeTemporaryAllocation(byteCount: BinaryFrameDecoder.maxFrameBytes, alignment: 8) { buffer in
            guard
                let length = COBS.decode(
                    UnsafeRawBufferPointer(start: encoded, count: count), into: buffer)
            else { return .rejected(.badFraming) }
            return parseDecoded(UnsafeRawPointer(buffer.baseAddress!), count: length)
        }
    }

    /// Parses `type | payload | crc16le`, already unstuffed.
    static func parseDecoded(_ frame: UnsafeRawPointer, count: Int) -> FrameOutcome {
        if count == 0 { return .nothing }
        // Too short to hold a type and a checksum: not a frame at all.
        guard count >= 3 else { return .rejected(.badFraming) }
        let sent = UInt16(littleEndian: frame.loadUnaligned(fromByteOffset: count - 2, as: UInt16.self))
        guard CRC16.checksum(UnsafeRawBufferPointer(start: frame, count: count - 2)) == sent else {
            return .rejected(.badCRC)
        }
        let payload = Payload(base: frame + 1, count: count - 3)
        let message: Message?
        switch frame.load(as: UInt8.self) {
        case Wire.TypeCode.reading: message = reading(payload).map(Message.reading)
        case Wire.TypeCode.heartbeat: message = heartbeat(payload).map(Message.heartbeat)
        case Wire.TypeCode.hello: message = hello(payload).map(Message.hello)
        case Wire.TypeCode.led: message = led(payload).map(Message.led)
        case Wire.TypeCode.ping: message = payload.count == Wire.PayloadLength.ping ? .ping : nil
        default: return .rejected(.unknownType)
        }
        guard let message else { return .rejected(.malformed) }
        return .message(message)
    }

    /// Little-endian fields at fixed offsets; the caller checks `count` first.
    private struct Payload {
        let base: UnsafeRawPointer
        let count: Int
        func u8(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }
        func u16(_ offset: Int) -> UInt16 {
            UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        }
        func u32(_ offset: Int) -> UInt32 {
            UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }
    }

    /// `seq u32, sensor u16, t_ms u32, flags u8, distance u16, voltage u16, current u16, pf u8`.
    ///
    /// Strict beyond the length: reserved flag bits set, or bytes of an absent field that
    /// are not zero, make the frame malformed. Such a frame passed its CRC, so the sender
    /// wrote it that way; counting it shows a firmware that breaks the contract instead
    /// of guessing what it meant.
    private static func reading(_ p: Payload) -> Reading? {
        guard p.count == Wire.PayloadLength.reading else { return nil }
        let flags = p.u8(10)
        guard flags & Wire.ReadingFlag.reserved == 0 else { return nil }
        let distance = p.u16(11)
        let voltage = p.u16(13)
        let current = p.u16(15)
        let powerFactor = p.u8(17)
        func field<T: FixedWidthInteger>(_ value: T, _ flag: UInt8) -> T?? {
            if flags & flag != 0 { return .some(value) }
            return value == 0 ? .some(nil) : nil
        }
        guard let distanceCm = field(distance, Wire.ReadingFlag.distance),
            let voltageDv = field(voltage, Wire.ReadingFlag.voltage),
            let currentMa = field(current, Wire.ReadingFlag.current),
            let powerFactorPct = field(powerFactor, Wire.ReadingFlag.powerFactor),
            UInt32(powerFactorPct ?? 0) <= Wire.maxPowerFactorPct
        else { return nil }
        return Reading(
            seq: p.u32(0), sensor: p.u16(4), gatewayMs: p.u32(6),
            occupied: flags & Wire.ReadingFlag.occupied != 0,
            distanceCm: distanceCm, voltageDv: voltageDv, currentMa: currentMa,
            powerFactorPct: powerFactorPct)
    }

    /// `next_seq u32, uptime_ms u32, tx_dropped u32`.
    private static func heartbeat(_ p: Payload) -> Heartbeat? {
        guard p.count == Wire.PayloadLength.heartbeat else { return nil }
        return Heartbeat(nextSeq: p.u32(0), uptimeMs: p.u32(4), txDropped: p.u32(8))
    }

    /// `id_len u8, id, boot_id u32, major u8, minor u8, patch u8, sensor_count u16`.
    private static func hello(_ p: Payload) -> Hello? {
        guard p.count >= 1 else { return nil }
        let idLength = Int(p.u8(0))
        guard Wire.gatewayIdLengths.contains(idLength),
            p.count == Wire.PayloadLength.helloFixed + idLength
        else { return nil }
        let id = UnsafeRawBufferPointer(start: p.base + 1, count: idLength)
        guard id.allSatisfy(isGatewayIdByte) else { return nil }
        let rest = 1 + idLength
        return Hello(
            gatewayId: String(decoding: id, as: UTF8.self), bootId: p.u32(rest),
            firmware: FirmwareVersion(major: p.u8(rest + 4), minor: p.u8(rest + 5), patch: p.u8(rest + 6)),
            sensorCount: p.u16(rest + 7))
    }

    /// `sensor u16, color u8`; a colour code above 4 is malformed.
    private static func led(_ p: Payload) -> LEDCommand? {
        guard p.count == Wire.PayloadLength.led, let color = LEDColor(rawValue: p.u8(2)) else {
            return nil
        }
        return LEDCommand(sensor: p.u16(0), color: color)
    }
}
