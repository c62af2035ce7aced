import ParkLinkProtocol

/// The on-disk form of spooled readings: one record per run of readings of one session.
///
///     record  := magic "PS" (2) | version (1) | reserved (1) | payload length (u32 LE)
///                | CRC-32 of the payload (u32 LE) | payload
///     payload := gateway id length (u8) | gateway id | boot id (u32) | count (u32) | count × entry
///     entry   := seq (u32) | sensor (u16) | received_at ms (i64) | gateway ms (u32)
///                | flags (u8: occupied, distance, voltage, current, power factor present)
///                | distance (u16) | voltage (u16) | current (u16) | power factor (u8)
///
/// Little-endian throughout. A record carries its session's key, not the pipeline's
/// session index, so it can be replayed by a later process. The checksum covers the
/// payload; the header is checked by magic, version and a length bound. A record that
/// fails any check ends the good part of a segment (a torn write after a crash).
enum SpoolRecord {
    static let headerSize = 12
    static let entrySize = 26
    static let version: UInt8 = 1
    /// At most this many readings per record, so a record always fits the writer's batch.
    static let maxReadingsPerRecord = 1_000
    static let maxPayload = 1 + 32 + 8 + maxReadingsPerRecord * entrySize

    /// Appends one record for `rows` (all of `key`'s session) to `out`.
    static func encode(_ rows: UnsafeBufferPointer<StampedReading>, key: SessionKey, into out: inout [UInt8]) {
        precondition(rows.count <= maxReadingsPerRecord)
        let gateway = Array(key.gatewayId.utf8.prefix(32))
        let payloadLength = 1 + gateway.count + 8 + rows.count * entrySize
        let start = out.count
        out.append(contentsOf: [0x50, 0x53, version, 0])
        put32(UInt32(payloadLength), &out)
        put32(0, &out)  // the checksum, filled in below
        out.append(UInt8(gateway.count))
        out.append(contentsOf: gateway)
        put32(key.bootId, &out)
        put32(UInt32(rows.count), &out)
        for r in rows {
            let m = r.reading
            put32(m.seq, &out)
            put16(m.sensor, &out)
            put64(UInt64(bitPattern: r.receivedAtMs), &out)
            put32(m.gatewayMs, &out)
            var flags: UInt8 = m.occupied ? 1 : 0
            if m.distanceCm != nil { flags |= 2 }
            if m.voltageDv != nil { flags |= 4 }
            if m.currentMa != nil { flags |= 8 }
            if m.powerFactorPct != nil { flags |= 16 }
            out.append(flags)
            put16(m.distanceCm ?? 0, &out)
            put16(m.voltageDv ?? 0, &out)
            put16(m.currentMa ?? 0, &out)
            out.append(m.powerFactorPct ?? 0)
        }
        let crc = out.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[(start + headerSize)...])) }
        out[start + 8] = UInt8(truncatingIfNeeded: crc)
        out[start + 9] = UInt8(truncatingIfNeeded: crc >> 8)
        out[start + 10] = UInt8(truncatingIfNeeded: crc >> 16)
        out[start + 11] = UInt8(truncatingIfNeeded: crc >> 24)
    }

    /// The payload length a header announces, or nil if it is not a record header.
    static func payloadLength(header h: UnsafeRawBufferPointer) -> Int? {
        guard h.count >= headerSize, h[0] == 0x50, h[1] == 0x53, h[2] == version else { return nil }
        let n = Int(get32(h, 4))
        guard n >= 1 + 1 + 8, n <= maxPayload else { return nil }
        return n
    }

    /// Whether the payload matches the header's checksum.
    static func checksumMatches(header h: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> Bool {
        get32(h, 8) == CRC32.checksum(payload.bindMemory(to: UInt8.self))
    }

    /// The session and readings of a checked payload; nil if its inner lengths disagree.
    static func decode(payload p: UnsafeRawBufferPointer, _ body: (SessionKey, Reading, Int64) -> Void) -> Int? {
        let gwLength = Int(p[0])
        guard gwLength >= 1, 1 + gwLength + 8 <= p.count,
              let gateway = String(validating: UnsafeRawBufferPointer(rebasing: p[1..<(1 + gwLength)]).bindMemory(to: UInt8.self), as: UTF8.self)
        else { return nil }
        var at = 1 + gwLength
        let key = SessionKey(gatewayId: gateway, bootId: get32(p, at))
        let count = Int(get32(p, at + 4))
        at += 8
        guard count >= 1, at + count * entrySize == p.count else { return nil }
        for _ in 0..<count {
            let flags = p[at + 18]
            let reading = Reading(
                seq: get32(p, at), sensor: get16(p, at + 4), gatewayMs: get32(p, at + 14), occupied: flags & 1 != 0,
                distanceCm: flags & 2 != 0 ? get16(p, at + 19) : nil,
                voltageDv: flags & 4 != 0 ? get16(p, at + 21) : nil,
                currentMa: flags & 8 != 0 ? get16(p, at + 23) : nil,
                powerFactorPct: flags & 16 != 0 ? p[at + 25] : nil)
            body(key, reading, Int64(bitPattern: get64(p, at + 6)))
            at += entrySize
        }
        return count
    }

    // MARK: Little-endian helpers

    @inline(__always) private static func put16(_ v: UInt16, _ out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: v))
        out.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    @inline(__always) private static func put32(_ v: UInt32, _ out: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    @inline(__always) private static func put64(_ v: UInt64, _ out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    @inline(__always) static func get16(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        UInt16(p[at]) | UInt16(p[at + 1]) << 8
    }

    @inline(__always) static func get32(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(p[at]) | UInt32(p[at + 1]) << 8 | UInt32(p[at + 2]) << 16 | UInt32(p[at + 3]) << 24
    }

    @inline(__always) static func get64(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        UInt64(get32(p, at)) | UInt64(get32(p, at + 4)) << 32
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it), table-driven.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}
