import ParkLinkProtocol

/// Inserts readings with ONE prepared `INSERT IGNORE` executed with MariaDB array binding
/// (`STMT_ATTR_ARRAY_SIZE`): up to `maxBatchSize` rows per round trip, sent in the binary
/// protocol (no SQL text to build or parse).
///
/// The column arrays are allocated once for `maxBatchSize` rows and reused; nullable columns
/// carry indicator arrays; `received_at` is a `MYSQL_TIME` array reached through an array of
/// pointers, and `gateway_id` an array of pointers to interned bytes. A batch larger than
/// `maxBatchSize` is sent in several executions; a shorter one resets the array size. The
/// statement is prepared lazily, and again after the connection reconnects.
public final class ArrayBindingInserter: ReadingBatchInserter {
    public let connection: MariaDBConnection
    public let maxBatchSize: Int
    public private(set) var lastInsertedCount = 0

    private let arrays: ParameterArrays
    private var statement: PreparedStatement?
    private let interner = GatewayIdInterner()

    // Column indices in `readingsColumnList` order.
    private let gatewayIds: ParameterArrays.StringColumn
    private let bootIds: UnsafeMutablePointer<UInt32>
    private let seqs: UnsafeMutablePointer<UInt32>
    private let sensors: UnsafeMutablePointer<UInt16>
    private let receivedAt: ParameterArrays.DateTimeColumn
    private let gatewayMs: UnsafeMutablePointer<UInt32>
    private let occupied: UnsafeMutablePointer<UInt8>
    private let distance: UnsafeMutablePointer<UInt16>
    private let distanceNull: UnsafeMutablePointer<CChar>
    private let voltage: UnsafeMutablePointer<UInt16>
    private let voltageNull: UnsafeMutablePointer<CChar>
    private let current: UnsafeMutablePointer<UInt16>
    private let currentNull: UnsafeMutablePointer<CChar>
    private let powerFactor: UnsafeMutablePointer<UInt8>
    private let powerFactorNull: UnsafeMutablePointer<CChar>

    public static let sql = "INSERT IGNORE INTO readings \(readingsColumnList) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    public init(connection: MariaDBConnection, maxBatchSize: Int = 2000) {
        precondition(maxBatchSize >= 1, "maxBatchSize must be at least 1")
        self.connection = connection
        self.maxBatchSize = maxBatchSize
        let a = ParameterArrays(columns: [
            (.string, false),  // gateway_id
            (.uint32, false),  // boot_id
            (.uint32, false),  // seq
            (.uint16, false),  // sensor_id
            (.dateTime, false),  // received_at
            (.uint32, false),  // gateway_ms
            (.uint8, false),  // occupied
            (.uint16, true),  // distance_cm
            (.uint16, true),  // voltage_dv
            (.uint16, true),  // current_ma
            (.uint8, true),  // power_factor_pct
        ], capacity: maxBatchSize)
        arrays = a
        gatewayIds = a.strings(0)
        bootIds = a.values(1, as: UInt32.self)
        seqs = a.values(2, as: UInt32.self)
        sensors = a.values(3, as: UInt16.self)
        receivedAt = a.dateTimes(4)
        gatewayMs = a.values(5, as: UInt32.self)
        occupied = a.values(6, as: UInt8.self)
        distance = a.values(7, as: UInt16.self)
        distanceNull = a.indicators(7)
        voltage = a.values(8, as: UInt16.self)
        voltageNull = a.indicators(8)
        current = a.values(9, as: UInt16.self)
        currentNull = a.indicators(9)
        powerFactor = a.values(10, as: UInt8.self)
        powerFactorNull = a.indicators(10)
    }

    /// The prepared statement for the connection's current generation.
    private func preparedStatement() throws -> PreparedStatement {
        if let statement, statement.isValid { return statement }
        statement?.close()
        statement = nil
        let s = try connection.prepare(Self.sql)
        try s.bind(arrays)
        statement = s
        return s
    }

    public func insert(_ rows: UnsafeBufferPointer<StampedReading>, sessions: some SessionResolving) throws {
        lastInsertedCount = 0
        guard !rows.isEmpty else { return }
        let statement = try preparedStatement()
        var cursor = SessionCursor(sessions: sessions, interner: interner)
        let null = ParameterArrays.nullIndicator
        let value = ParameterArrays.valueIndicator
        var inserted = 0
        var start = 0
        while start < rows.count {
            let n = min(maxBatchSize, rows.count - start)
            for i in 0..<n {
                let row = rows[start + i]
                try cursor.move(to: row.session)
                gatewayIds.set(i, bytes: cursor.gatewayId.baseAddress!, count: cursor.gatewayId.count)
                bootIds[i] = cursor.bootId
                let r = row.reading
                seqs[i] = r.seq
                sensors[i] = r.sensor
                receivedAt.set(i, millisecondsSinceEpoch: row.receivedAtMs)
                gatewayMs[i] = r.gatewayMs
                occupied[i] = r.occupied ? 1 : 0
                if let v = r.distanceCm {
                    distance[i] = v
                    distanceNull[i] = value
                } else {
                    distanceNull[i] = null
                }
                if let v = r.voltageDv {
                    voltage[i] = v
                    voltageNull[i] = value
                } else {
                    voltageNull[i] = null
                }
                if let v = r.currentMa {
                    current[i] = v
                    currentNull[i] = value
                } else {
                    currentNull[i] = null
                }
                if let v = r.powerFactorPct {
                    powerFactor[i] = v
                    powerFactorNull[i] = value
                } else {
                    powerFactorNull[i] = null
                }
            }
            inserted += Int(try statement.executeArrays(rows: n))
            start += n
        }
        lastInsertedCount = inserted
    }
}
