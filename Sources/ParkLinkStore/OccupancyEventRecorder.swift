import ParkLinkProtocol

/// Writes occupancy changes in the caller's transaction, next to the readings that carry
/// them, with ONE prepared `INSERT IGNORE` executed with array binding, as the readings are:
/// a flapping sensor bus makes nearly every reading a change, and one statement per event
/// held the writer to 28,000 readings/s (benchmarks/README.md). Keyed by the reading, so a
/// replayed batch adds nothing.
///
/// The column arrays are allocated once for `capacity` rows and reused; a larger batch of
/// changes is sent in several executions. Gateway ids, zone ids and the two event names
/// are interned once and pointed at, never copied per row.
///
/// On a Galera node (`bulk: false`) the same rows go as multi-row text statements instead:
/// MariaDB 10.11 does not report the deadlock error of a bulk (array-bound) statement that
/// a replicated DDL aborts, so the client would commit a transaction that is gone (issue 14,
/// README "Storage"). A text statement reports it, and the batch is written again.
final class OccupancyEventRecorder {
    let connection: MariaDBConnection
    let capacity: Int
    let bulk: Bool
    /// Per sensor id, the zone as an SQL literal (`'A'` or `NULL`), for the text statements.
    private var zoneLiterals: [UInt16: String] = [:]
    private let arrays: ParameterArrays
    private var statement: PreparedStatement?
    private let interner = GatewayIdInterner()
    private let zoneOf: @Sendable (UInt16) -> String?
    /// Per sensor id, looked up once (the zone map does not change in a run): 0 not yet,
    /// -1 no zone, k > 0 the zone id bytes `zoneBytes[k - 1]`.
    private var zoneSlot = [Int32](repeating: 0, count: 65_536)
    private var zoneBytes: [UnsafeMutableRawBufferPointer] = []
    private var zoneIndex: [String: Int32] = [:]

    private let gatewayIds: ParameterArrays.StringColumn
    private let bootIds: UnsafeMutablePointer<UInt32>
    private let seqs: UnsafeMutablePointer<UInt32>
    private let sensors: UnsafeMutablePointer<UInt16>
    private let zoneIds: ParameterArrays.StringColumn
    private let zoneNull: UnsafeMutablePointer<CChar>
    private let kinds: ParameterArrays.StringColumn
    private let at: ParameterArrays.DateTimeColumn

    static let sql = """
        INSERT IGNORE INTO occupancy_events (gateway_id, boot_id, seq, sensor_id, zone_id, event, at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """
    private static let arrival: StaticString = "arrival"
    private static let departure: StaticString = "departure"

    init(connection: MariaDBConnection, capacity: Int, bulk: Bool = true, zoneOf: @escaping @Sendable (UInt16) -> String?) {
        precondition(capacity >= 1)
        self.connection = connection
        self.capacity = capacity
        self.bulk = bulk
        self.zoneOf = zoneOf
        let a = ParameterArrays(columns: [
            (.string, false),  // gateway_id
            (.uint32, false),  // boot_id
            (.uint32, false),  // seq
            (.uint16, false),  // sensor_id
            (.string, true),  // zone_id
            (.string, false),  // event
            (.dateTime, false),  // at
        ], capacity: capacity)
        arrays = a
        gatewayIds = a.strings(0)
        bootIds = a.values(1, as: UInt32.self)
        seqs = a.values(2, as: UInt32.self)
        sensors = a.values(3, as: UInt16.self)
        zoneIds = a.strings(4)
        zoneNull = a.indicators(4)
        kinds = a.strings(5)
        at = a.dateTimes(6)
    }

    deinit {
        for bytes in zoneBytes { bytes.deallocate() }
    }

    /// Returns how many events were new (the rest were replays).
    @discardableResult
    func record(_ changes: [OccupancyChange], sessions: some SessionResolving) throws -> Int {
        guard !changes.isEmpty else { return 0 }
        guard bulk else { return try recordAsText(changes, sessions: sessions) }
        if statement == nil || statement?.isValid == false {
            statement?.close()
            let s = try connection.prepare(Self.sql)
            try s.bind(arrays)
            statement = s
        }
        var cursor = SessionCursor(sessions: sessions, interner: interner)
        let null = ParameterArrays.nullIndicator, value = ParameterArrays.valueIndicator
        var start = 0, inserted = 0
        while start < changes.count {
            let n = min(capacity, changes.count - start)
            for i in 0..<n {
                let e = changes[start + i]
                try cursor.move(to: e.session)
                gatewayIds.set(i, bytes: cursor.gatewayId.baseAddress!, count: cursor.gatewayId.count)
                bootIds[i] = cursor.bootId
                seqs[i] = e.seq
                sensors[i] = e.sensor
                if let zone = zone(of: e.sensor) {
                    zoneIds.set(i, bytes: zone.baseAddress!, count: zone.count)
                    zoneNull[i] = value
                } else {
                    zoneNull[i] = null
                }
                let kind = e.arrival ? Self.arrival : Self.departure
                kinds.set(i, bytes: kind.utf8Start, count: kind.utf8CodeUnitCount)
                at.set(i, millisecondsSinceEpoch: e.atMs)
            }
            inserted += Int(try statement!.executeArrays(rows: n))
            start += n
        }
        return inserted
    }

    /// The same rows as multi-row `INSERT IGNORE` text, as many rows a statement as
    /// `MultiRowInserter` sends.
    private func recordAsText(_ changes: [OccupancyChange], sessions: some SessionResolving) throws -> Int {
        var cursor = SessionCursor(sessions: sessions, interner: interner)
        var start = 0, inserted = 0
        while start < changes.count {
            let n = min(MultiRowInserter.defaultRowsPerStatement, changes.count - start)
            var sql = "INSERT IGNORE INTO occupancy_events (gateway_id, boot_id, seq, sensor_id, zone_id, event, at) VALUES "
            sql.reserveCapacity(sql.utf8.count + n * 96)
            for i in 0..<n {
                let e = changes[start + i]
                try cursor.move(to: e.session)
                if i > 0 { sql += "," }
                // Gateway ids are validated to [A-Za-z0-9_-] (GatewayIdInterner): no escaping.
                sql += "('\(String(decoding: cursor.gatewayId, as: UTF8.self))',\(cursor.bootId),\(e.seq),\(e.sensor),"
                sql += try zoneLiteral(of: e.sensor)
                sql += e.arrival ? ",'arrival','" : ",'departure','"
                sql += Timestamps.sql(ms: e.atMs)
                sql += "')"
            }
            inserted += Int(try connection.execute(sql))
            start += n
        }
        return inserted
    }

    private func zoneLiteral(of sensor: UInt16) throws -> String {
        if let literal = zoneLiterals[sensor] { return literal }
        let literal = try zoneOf(sensor).map { try connection.quoted($0) } ?? "NULL"
        zoneLiterals[sensor] = literal
        return literal
    }

    @inline(__always)
    private func zone(of sensor: UInt16) -> UnsafeMutableRawBufferPointer? {
        var slot = zoneSlot[Int(sensor)]
        if slot == 0 {
            slot = zoneOf(sensor).map(intern) ?? -1
            zoneSlot[Int(sensor)] = slot
        }
        return slot > 0 ? zoneBytes[Int(slot - 1)] : nil
    }

    private func intern(_ id: String) -> Int32 {
        if let k = zoneIndex[id] { return k }
        let utf8 = Array(id.utf8)
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(utf8.count, 1), alignment: 1)
        b.copyBytes(from: utf8)
        zoneBytes.append(b)
        let k = Int32(zoneBytes.count)
        zoneIndex[id] = k
        return k
    }
}
