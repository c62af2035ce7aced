import ParkLinkProtocol

/// One override as the `overrides` table holds it.
public struct OverrideRecord: Sendable, Equatable {
    public var id: UInt64
    public var gatewayId: String
    public var sensorId: UInt16
    public var zoneId: String?
    /// `occupied` or `free`.
    public var state: String
    public var reason: String?
    public var setByUid: UInt32
    public var setByUser: String?
    public var setByPid: Int32
    public var setAtMs: Int64
    public var expiresAtMs: Int64?
    public var endedAtMs: Int64?
    /// `auto`, `expired` or `replaced`; nil while active.
    public var endReason: String?
    public var endedByUid: UInt32?
    public var endedByUser: String?

    public init(id: UInt64 = 0, gatewayId: String, sensorId: UInt16, zoneId: String?, state: String, reason: String?,
                setByUid: UInt32, setByUser: String?, setByPid: Int32, setAtMs: Int64, expiresAtMs: Int64?,
                endedAtMs: Int64? = nil, endReason: String? = nil, endedByUid: UInt32? = nil, endedByUser: String? = nil) {
        self.id = id
        self.gatewayId = gatewayId
        self.sensorId = sensorId
        self.zoneId = zoneId
        self.state = state
        self.reason = reason
        self.setByUid = setByUid
        self.setByUser = setByUser
        self.setByPid = setByPid
        self.setAtMs = setAtMs
        self.expiresAtMs = expiresAtMs
        self.endedAtMs = endedAtMs
        self.endReason = endReason
        self.endedByUid = endedByUid
        self.endedByUser = endedByUser
    }
}

/// The `overrides` table of one appliance: a technician's overrides of bay states.
public struct OverrideRepository {
    public let connection: MariaDBConnection
    public let appliance: String

    public init(connection: MariaDBConnection, appliance: String) {
        self.connection = connection
        self.appliance = appliance
    }

    /// Records a new override, ending the bay's active one (as `replaced`, by the same
    /// person) in the same transaction; returns the new row (with its id) and the one it
    /// replaced.
    public func set(_ new: OverrideRecord) throws -> (set: OverrideRecord, replaced: OverrideRecord?) {
        let c = connection
        return try c.transaction {
            let replaced = try endActive(gateway: new.gatewayId, sensor: new.sensorId, atMs: new.setAtMs, reason: "replaced",
                                         byUid: new.setByUid, byUser: new.setByUser)
            try c.prepare("""
                INSERT INTO overrides (appliance, gateway_id, sensor_id, zone_id, state, reason, set_by_uid, set_by_user,
                                       set_by_pid, set_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute([.string(appliance), .string(new.gatewayId), .uint(UInt64(new.sensorId)), Self.text(new.zoneId),
                              .string(new.state), Self.text(new.reason.map { String($0.prefix(255)) }), .uint(UInt64(new.setByUid)),
                              Self.text(new.setByUser.map { String($0.prefix(64)) }), .int(Int64(new.setByPid)),
                              .dateTime(millisecondsSinceEpoch: new.setAtMs),
                              new.expiresAtMs.map { .dateTime(millisecondsSinceEpoch: $0) } ?? .null])
            var set = new
            set.id = UInt64(try c.queryValue("SELECT LAST_INSERT_ID()") ?? "0") ?? 0
            return (set, replaced)
        }
    }

    /// Ends the bay's active override, if it has one (`auto`: set back by `byUid`);
    /// returns it as ended.
    public func endActive(gateway: String, sensor: UInt16, atMs: Int64, reason: String, byUid: UInt32?,
                          byUser: String?) throws -> OverrideRecord? {
        let c = connection
        let condition = "appliance = \(try c.quoted(appliance)) AND gateway_id = \(try c.quoted(gateway)) "
            + "AND sensor_id = \(sensor) AND ended_at IS NULL"
        guard var active = try select(where: condition, order: "id DESC", limit: 1).first else { return nil }
        try end(id: active.id, atMs: atMs, reason: reason, byUid: byUid, byUser: byUser)
        active.endedAtMs = atMs
        active.endReason = reason
        active.endedByUid = byUid
        active.endedByUser = byUser
        return active
    }

    /// Marks one override ended (an expiry the sampler found, or the above). Ending one
    /// that has already ended changes nothing: the first end stands.
    public func end(id: UInt64, atMs: Int64, reason: String, byUid: UInt32? = nil, byUser: String? = nil) throws {
        try connection.prepare("""
            UPDATE overrides SET ended_at = ?, end_reason = ?, ended_by_uid = ?, ended_by_user = ?
            WHERE appliance = ? AND id = ? AND ended_at IS NULL
            """).execute([.dateTime(millisecondsSinceEpoch: atMs), .string(reason), byUid.map { .uint(UInt64($0)) } ?? .null,
                          Self.text(byUser.map { String($0.prefix(64)) }), .string(appliance), .uint(id)])
    }

    /// The active overrides (not ended), oldest first: to resume after a restart.
    public func active() throws -> [OverrideRecord] {
        try select(where: "appliance = \(try connection.quoted(appliance)) AND ended_at IS NULL", order: "id", limit: nil)
    }

    /// Overrides set or ended at or after `sinceMs`, oldest first (for `watch --since`).
    public func changed(sinceMs: Int64, untilMs: Int64, limit: Int) throws -> [OverrideRecord] {
        let from = SQLLiteral.time(sinceMs), to = SQLLiteral.time(untilMs)
        return try select(where: "appliance = \(try connection.quoted(appliance)) AND "
                            + "((set_at >= \(from) AND set_at <= \(to)) OR (ended_at >= \(from) AND ended_at <= \(to)))",
                          order: "id", limit: limit)
    }

    private static func text(_ s: String?) -> MariaDBValue { s.map(MariaDBValue.string) ?? .null }

    static let columns = """
        id, gateway_id, sensor_id, zone_id, state, reason, set_by_uid, set_by_user, set_by_pid,
        ROUND(UNIX_TIMESTAMP(set_at) * 1000), ROUND(UNIX_TIMESTAMP(expires_at) * 1000), ROUND(UNIX_TIMESTAMP(ended_at) * 1000),
        end_reason, ended_by_uid, ended_by_user
        """

    private func select(where condition: String, order: String, limit: Int?) throws -> [OverrideRecord] {
        try connection.query("SELECT \(Self.columns) FROM overrides WHERE \(condition) ORDER BY \(order)"
                                + (limit.map { " LIMIT \($0)" } ?? "")).compactMap(Self.record)
    }

    static func record(_ r: [String?]) -> OverrideRecord? {
        func ms(_ s: String?) -> Int64? { s.flatMap { Double($0) }.map { Int64($0) } }
        guard r.count >= 15, let id = r[0].flatMap({ UInt64($0) }), let gateway = r[1], let sensor = r[2].flatMap({ UInt16($0) }),
              let state = r[4], let uid = r[6].flatMap({ UInt32($0) }), let setAt = ms(r[9]) else { return nil }
        return OverrideRecord(id: id, gatewayId: gateway, sensorId: sensor, zoneId: r[3], state: state, reason: r[5],
                              setByUid: uid, setByUser: r[7], setByPid: r[8].flatMap { Int32($0) } ?? 0, setAtMs: setAt,
                              expiresAtMs: ms(r[10]), endedAtMs: ms(r[11]), endReason: r[12],
                              endedByUid: r[13].flatMap { UInt32($0) }, endedByUser: r[14])
    }
}
