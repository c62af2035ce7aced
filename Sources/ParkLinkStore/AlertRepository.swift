import ParkLinkProtocol

/// An alert as the `alerts` table holds it. The sampler maps its own alert types to and
/// from this; the store knows only the columns.
public struct AlertRecord: Sendable, Equatable {
    public var id: UInt64
    public var type: String
    public var severity: String
    /// `gateway/sensor` for a sensor, the component's name otherwise.
    public var subject: String
    public var gatewayId: String?
    public var sensorId: UInt16?
    public var message: String
    public var createdAtMs: Int64
    public var acknowledgedAtMs: Int64?
    public var resolvedAtMs: Int64?

    public init(id: UInt64, type: String, severity: String, subject: String, gatewayId: String?, sensorId: UInt16?,
                message: String, createdAtMs: Int64, acknowledgedAtMs: Int64? = nil, resolvedAtMs: Int64? = nil) {
        self.id = id
        self.type = type
        self.severity = severity
        self.subject = subject
        self.gatewayId = gatewayId
        self.sensorId = sensorId
        self.message = message
        self.createdAtMs = createdAtMs
        self.acknowledgedAtMs = acknowledgedAtMs
        self.resolvedAtMs = resolvedAtMs
    }
}

/// A change to one alert, written in the order it happened.
public enum AlertChange: Sendable, Equatable {
    case opened(AlertRecord)
    case resolved(id: UInt64, atMs: Int64)
    case acknowledged(id: UInt64, atMs: Int64)
}

/// The `alerts` table of one appliance (several may share the database: each numbers its
/// own alerts, keyed by `appliance`).
public struct AlertRepository {
    public let connection: MariaDBConnection
    public let appliance: String

    public init(connection: MariaDBConnection, appliance: String) {
        self.connection = connection
        self.appliance = appliance
    }

    /// The open alerts and the next free id, to resume the alert book after a restart.
    public func loadOpen() throws -> (nextId: UInt64, open: [AlertRecord]) {
        let c = connection
        let me = try c.quoted(appliance)
        let next = UInt64(try c.queryValue("SELECT COALESCE(MAX(id), 0) + 1 FROM alerts WHERE appliance = \(me)") ?? "1") ?? 1
        return (next, try select(where: "appliance = \(me) AND resolved_at IS NULL", limit: nil))
    }

    /// The newest alerts, open or not (history included), newest first.
    public func recent(limit: Int) throws -> [AlertRecord] {
        try select(where: "appliance = \(try connection.quoted(appliance))", limit: limit)
    }

    /// The open (unresolved) alerts, acknowledged or not, newest first.
    public func open() throws -> [AlertRecord] {
        try select(where: "appliance = \(try connection.quoted(appliance)) AND resolved_at IS NULL", limit: nil)
    }

    /// What acknowledging one alert in the database came to.
    public enum Acknowledgement: Sendable, Equatable {
        case acknowledged
        /// Acknowledged before: the first time stands.
        case alreadyAcknowledged
        /// No open alert of this appliance has this id (unknown, or resolved).
        case notOpen
    }

    /// Acknowledges an open alert directly in the table, for when the daemon is down: it
    /// reads `acknowledged_at` back when it resumes its alert book.
    public func acknowledge(id: UInt64, atMs: Int64) throws -> Acknowledgement {
        let me = try connection.quoted(appliance)
        let changed = try connection.execute("""
            UPDATE alerts SET acknowledged_at = \(SQLLiteral.time(atMs))
            WHERE appliance = \(me) AND id = \(id) AND resolved_at IS NULL AND acknowledged_at IS NULL
            """)
        if changed > 0 { return .acknowledged }
        let open = try connection.queryValue("""
            SELECT COUNT(*) FROM alerts WHERE appliance = \(me) AND id = \(id) AND resolved_at IS NULL
            """)
        return open == "1" ? .alreadyAcknowledged : .notOpen
    }

    /// Acknowledges every open, unacknowledged alert of this appliance; returns how many.
    public func acknowledgeAll(atMs: Int64) throws -> Int {
        Int(try connection.execute("""
            UPDATE alerts SET acknowledged_at = \(SQLLiteral.time(atMs))
            WHERE appliance = \(try connection.quoted(appliance)) AND resolved_at IS NULL AND acknowledged_at IS NULL
            """))
    }

    /// Writes the changes in one transaction. Opening is `INSERT IGNORE` (the key makes a
    /// replay after an unknown commit outcome harmless).
    public func write(_ changes: [AlertChange]) throws {
        guard !changes.isEmpty else { return }
        let c = connection
        try c.transaction {
            for change in changes {
                switch change {
                case .opened(let a):
                    _ = try c.prepare("""
                        INSERT IGNORE INTO alerts (appliance, id, type, severity, subject, gateway_id, sensor_id, message, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """).execute([.string(appliance), .uint(a.id), .string(a.type), .string(a.severity),
                                      .string(a.subject), a.gatewayId.map(MariaDBValue.string) ?? .null,
                                      a.sensorId.map { .uint(UInt64($0)) } ?? .null,
                                      .string(String(a.message.prefix(255))), .dateTime(millisecondsSinceEpoch: a.createdAtMs)])
                case .resolved(let id, let at):
                    _ = try c.prepare("UPDATE alerts SET resolved_at = ? WHERE appliance = ? AND id = ?")
                        .execute([.dateTime(millisecondsSinceEpoch: at), .string(appliance), .uint(id)])
                case .acknowledged(let id, let at):
                    _ = try c.prepare("UPDATE alerts SET acknowledged_at = ? WHERE appliance = ? AND id = ?")
                        .execute([.dateTime(millisecondsSinceEpoch: at), .string(appliance), .uint(id)])
                }
            }
        }
    }

    private func select(where condition: String, limit: Int?) throws -> [AlertRecord] {
        func ms(_ s: String?) -> Int64? { s.flatMap { Double($0) }.map { Int64($0) } }
        return try connection.query("""
            SELECT id, type, severity, subject, gateway_id, sensor_id, message,
                   ROUND(UNIX_TIMESTAMP(created_at) * 1000), ROUND(UNIX_TIMESTAMP(acknowledged_at) * 1000),
                   ROUND(UNIX_TIMESTAMP(resolved_at) * 1000)
            FROM alerts WHERE \(condition) ORDER BY id DESC\(limit.map { " LIMIT \($0)" } ?? "")
            """).compactMap { r in
            guard let id = r[0].flatMap({ UInt64($0) }), let type = r[1], let severity = r[2], let subject = r[3],
                  let created = ms(r[7]) else { return nil }
            return AlertRecord(id: id, type: type, severity: severity, subject: subject, gatewayId: r[4],
                               sensorId: r[5].flatMap { UInt16($0) }, message: r[6] ?? "", createdAtMs: created,
                               acknowledgedAtMs: ms(r[8]), resolvedAtMs: ms(r[9]))
        }
    }
}
