/// Writes `$TYPE,fields*CRC\r\n` lines, digits straight into the buffer: the simulator
/// sends a hundred thousand readings a second, and formatting through `String` would
/// allocate for each.
enum TextMessageWriter {
    static func append(_ message: Message, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "$"))
        let bodyStart = out.count
        switch message {
        case .reading(let r):
            out.append(UInt8(ascii: "R"))
            field(r.seq, &out)
            field(UInt32(r.sensor), &out)
            field(r.gatewayMs, &out)
            field(r.occupied ? 1 : 0, &out)
            field(r.distanceCm.map(UInt32.init), &out)
            field(r.voltageDv.map(UInt32.init), &out)
            field(r.currentMa.map(UInt32.init), &out)
            field(r.powerFactorPct.map(UInt32.init), &out)
        case .heartbeat(let hb):
            out.append(contentsOf: "HB".utf8)
            field(hb.nextSeq, &out)
            field(hb.uptimeMs, &out)
            field(hb.txDropped, &out)
        case .hello(let h):
            out.append(contentsOf: "HELLO,".utf8)
            out.append(contentsOf: h.gatewayId.utf8)
            out.append(UInt8(ascii: ","))
            hex(h.bootId, digits: 8, &out)
            out.append(UInt8(ascii: ","))
            decimal(UInt32(h.firmware.major), &out)
            out.append(UInt8(ascii: "."))
            decimal(UInt32(h.firmware.minor), &out)
            out.append(UInt8(ascii: "."))
            decimal(UInt32(h.firmware.patch), &out)
            field(UInt32(h.sensorCount), &out)
        case .led(let led):
            out.append(contentsOf: "LED".utf8)
            field(UInt32(led.sensor), &out)
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: led.color.name.utf8)
        case .ping:
            out.append(contentsOf: "PING".utf8)
        }
        let crc = out.withUnsafeBytes { CRC16.checksum(UnsafeRawBufferPointer(rebasing: $0[bodyStart...])) }
        out.append(UInt8(ascii: "*"))
        hex(UInt32(crc), digits: 4, &out)
        out.append(UInt8(ascii: "\r"))
        out.append(UInt8(ascii: "\n"))
    }

    /// `,value`.
    private static func field(_ value: UInt32, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        decimal(value, &out)
    }

    /// `,value`, or a bare `,` for an absent optional field.
    private static func field(_ value: UInt32?, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        if let value { decimal(value, &out) }
    }

    private static func decimal(_ value: UInt32, _ out: inout [UInt8]) {
        var divisor: UInt32 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value / divisor % 10))
            divisor /= 10
        }
    }

    /// Upper-case, zero-padded.
    private static func hex(_ value: UInt32, digits: Int, _ out: inout [UInt8]) {
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt32(shift)) & 0xF
            out.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10)
        }
    }
}
