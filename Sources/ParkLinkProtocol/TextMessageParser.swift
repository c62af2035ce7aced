/// Turns one text line into a message or a reject reason.
///
/// The checks run in an order that makes each counter mean one thing: a line without
/// a trailer is `noChecksum`; a trailer that is not 4 hex digits is `malformed`; a
/// checksum that does not match is `badCRC` (so a type or field garbled in transit is
/// never counted as `unknownType` or `malformed`); only a line the gateway really sent
/// is then judged on its type and fields.
@usableFromInline
enum TextMessageParser {
    /// Parses the bytes between `$` and `\n` (both excluded); a final `\r` is optional.
    ///
    /// Not inlined into the framing loop: it runs once per line, and staying in this
    /// module keeps the CRC table and the field parsers statically known.
    @usableFromInline
    static func parse(_ line: UnsafeRawPointer, count: Int) -> FrameOutcome {
        var n = count
        if n > 0 && line.load(fromByteOffset: n - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            n -= 1
        }
        var star = 0
        while star < n && line.load(fromByteOffset: star, as: UInt8.self) != UInt8(ascii: "*") {
            star += 1
        }
        guard star < n else { return .rejected(.noChecksum) }
        var trailer = TextFieldCursor(line, from: star + 1, to: n)
        guard let sent = trailer.hex(digits: 4), trailer.isAtEnd else { return .rejected(.malformed) }
        guard CRC16.checksum(UnsafeRawBufferPointer(start: line, count: star)) == UInt16(sent) else {
            return .rejected(.badCRC)
        }

        var fields = TextFieldCursor(line, from: 0, to: star)
        let type = fields.token()
        let message: Message?
        if type.equals("R") {
            message = fields.comma() ? reading(&fields).map(Message.reading) : nil
        } else if type.equals("HB") {
            message = fields.comma() ? heartbeat(&fields).map(Message.heartbeat) : nil
        } else if type.equals("HELLO") {
            message = fields.comma() ? hello(&fields).map(Message.hello) : nil
        } else if type.equals("LED") {
            message = fields.comma() ? led(&fields).map(Message.led) : nil
        } else if type.equals("PING") {
            message = fields.isAtEnd ? .ping : nil
        } else {
            return .rejected(.unknownType)
        }
        guard let message else { return .rejected(.malformed) }
        return .message(message)
    }

    /// `seq,sensor,t_ms,occupied,distance_cm,voltage_dv,current_ma,power_factor_pct`,
    /// the last four possibly empty.
    private static func reading(_ f: inout TextFieldCursor) -> Reading? {
        guard let seq = f.number(max: .max), f.comma(),
            let sensor = f.number(max: UInt32(UInt16.max)), f.comma(),
            let gatewayMs = f.number(max: .max), f.comma(),
            let occupied = f.number(max: 1), f.comma(),
            let distance = f.optionalNumber(max: UInt32(UInt16.max)), f.comma(),
            let voltage = f.optionalNumber(max: UInt32(UInt16.max)), f.comma(),
            let current = f.optionalNumber(max: UInt32(UInt16.max)), f.comma(),
            let powerFactor = f.optionalNumber(max: Wire.maxPowerFactorPct), f.isAtEnd
        else { return nil }
        return Reading(
            seq: seq, sensor: UInt16(truncatingIfNeeded: sensor), gatewayMs: gatewayMs,
            occupied: occupied == 1,
            distanceCm: distance.map { UInt16(truncatingIfNeeded: $0) },
            voltageDv: voltage.map { UInt16(truncatingIfNeeded: $0) },
            currentMa: current.map { UInt16(truncatingIfNeeded: $0) },
            powerFactorPct: powerFactor.map { UInt8(truncatingIfNeeded: $0) })
    }

    /// `next_seq,uptime_ms,tx_dropped`.
    private static func heartbeat(_ f: inout TextFieldCursor) -> Heartbeat? {
        guard let nextSeq = f.number(max: .max), f.comma(),
            let uptime = f.number(max: .max), f.comma(),
            let dropped = f.number(max: .max), f.isAtEnd
        else { return nil }
        return Heartbeat(nextSeq: nextSeq, uptimeMs: uptime, txDropped: dropped)
    }

    /// `gateway_id,boot_id,MAJOR.MINOR.PATCH,sensor_count`; the only message that
    /// allocates (its id becomes a String), and it is sent once per boot.
    private static func hello(_ f: inout TextFieldCursor) -> Hello? {
        let id = f.token()
        guard Wire.gatewayIdLengths.contains(id.count), id.allSatisfy(isGatewayIdByte), f.comma(),
            let bootId = f.hex(digits: 8), f.comma(),
            let major = f.number(max: UInt32(UInt8.max)), f.consume(UInt8(ascii: ".")),
            let minor = f.number(max: UInt32(UInt8.max)), f.consume(UInt8(ascii: ".")),
            let patch = f.number(max: UInt32(UInt8.max)), f.comma(),
            let sensorCount = f.number(max: UInt32(UInt16.max)), f.isAtEnd
        else { return nil }
        return Hello(
            gatewayId: String(decoding: id, as: UTF8.self), bootId: bootId,
            firmware: FirmwareVersion(
                major: UInt8(truncatingIfNeeded: major), minor: UInt8(truncatingIfNeeded: minor),
                patch: UInt8(truncatingIfNeeded: patch)),
            sensorCount: UInt16(truncatingIfNeeded: sensorCount))
    }

    /// `sensor,COLOR`, the colour spelled exactly as PROTOCOL.md does (upper case).
    private static func led(_ f: inout TextFieldCursor) -> LEDCommand? {
        guard let sensor = f.number(max: UInt32(UInt16.max)), f.comma() else { return nil }
        let name = f.token()
        guard f.isAtEnd, let color = LEDColor.allCases.first(where: { name.equals($0.wireName) }) else {
            return nil
        }
        return LEDCommand(sensor: UInt16(truncatingIfNeeded: sensor), color: color)
    }
}

extension LEDColor {
    /// `name` as a StaticString, so the parser can compare bytes without building a String.
    var wireName: StaticString {
        switch self {
        case .off: "OFF"
        case .green: "GREEN"
        case .red: "RED"
        case .blue: "BLUE"
        case .amber: "AMBER"
        }
    }
}
