import ParkLinkProtocol

/// Inserts readings with multi-row `INSERT IGNORE … VALUES (…),(…)` text statements of up to
/// `rowsPerStatement` rows, each built into one reused byte buffer (digits and dates written
/// by hand: no per-row `String`, no Foundation formatting, no `Date`).
public final class MultiRowInserter: ReadingBatchInserter {
    public let connection: MariaDBConnection
    public let rowsPerStatement: Int
    public private(set) var lastInsertedCount = 0

    private let buffer: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private let interner = GatewayIdInterner()
    private static let header: StaticString = "INSERT IGNORE INTO readings (gateway_id, boot_id, seq, sensor_id, received_at, gateway_ms, occupied, distance_cm, voltage_dv, current_ma, power_factor_pct) VALUES "

    /// About 100 KB of text a statement: far below `max_allowed_packet`, whatever
    /// `batch_max_rows` is (the occupancy events' text path uses it too).
    public static let defaultRowsPerStatement = 1_000

    public init(connection: MariaDBConnection, rowsPerStatement: Int = MultiRowInserter.defaultRowsPerStatement) {
        precondition(rowsPerStatement >= 1, "rowsPerStatement must be at least 1")
        self.connection = connection
        self.rowsPerStatement = rowsPerStatement
        capacity = Self.header.utf8CodeUnitCount + rowsPerStatement * maxRowTextBytes
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
    }

    public func insert(_ rows: UnsafeBufferPointer<StampedReading>, sessions: some SessionResolving) throws {
        lastInsertedCount = 0
        var cursor = SessionCursor(sessions: sessions, interner: interner)
        var inserted = 0
        var start = 0
        while start < rows.count {
            let n = min(rowsPerStatement, rows.count - start)
            var w = ByteWriter(base: buffer)
            w.ascii(Self.header)
            for i in 0..<n {
                let row = rows[start + i]
                try cursor.move(to: row.session)
                if i > 0 { w.byte(0x2C) }  // ,
                Self.appendTuple(&w, row, cursor.gatewayId, cursor.bootId)
            }
            assert(w.count <= capacity)
            inserted += Int(try connection.execute(utf8: UnsafeRawBufferPointer(start: buffer, count: w.count)))
            start += n
        }
        lastInsertedCount = inserted
    }

    @inline(__always)
    static func appendTuple(_ w: inout ByteWriter, _ row: StampedReading, _ gatewayId: UnsafeRawBufferPointer, _ bootId: UInt32) {
        let r = row.reading
        w.byte(0x28)  // (
        w.byte(0x27)  // '
        w.bytes(gatewayId)  // [A-Za-z0-9_-]: nothing to escape
        w.byte(0x27)
        w.byte(0x2C)
        w.decimal(bootId)
        w.byte(0x2C)
        w.decimal(r.seq)
        w.byte(0x2C)
        w.decimal(UInt32(r.sensor))
        w.byte(0x2C)
        w.byte(0x27)
        w.dateTime(millisecondsSinceEpoch: row.receivedAtMs)
        w.byte(0x27)
        w.byte(0x2C)
        w.decimal(r.gatewayMs)
        w.byte(0x2C)
        w.byte(r.occupied ? 0x31 : 0x30)
        w.byte(0x2C)
        appendOptional(&w, r.distanceCm.map(UInt32.init))
        w.byte(0x2C)
        appendOptional(&w, r.voltageDv.map(UInt32.init))
        w.byte(0x2C)
        appendOptional(&w, r.currentMa.map(UInt32.init))
        w.byte(0x2C)
        appendOptional(&w, r.powerFactorPct.map(UInt32.init))
        w.byte(0x29)  // )
    }

    @inline(__always)
    private static func appendOptional(_ w: inout ByteWriter, _ v: UInt32?) {
        if let v {
            w.decimal(v)
        } else {
            w.ascii("NULL")
        }
    }
}

/// One `INSERT IGNORE` statement per row: the baseline the benchmark compares against.
public final class SingleRowInserter: ReadingBatchInserter {
    private let inner: MultiRowInserter
    public var connection: MariaDBConnection { inner.connection }
    public var lastInsertedCount: Int { inner.lastInsertedCount }

    public init(connection: MariaDBConnection) {
        inner = MultiRowInserter(connection: connection, rowsPerStatement: 1)
    }

    public func insert(_ rows: UnsafeBufferPointer<StampedReading>, sessions: some SessionResolving) throws {
        try inner.insert(rows, sessions: sessions)
    }
}
