/// The statements behind `parklink export`: one table (or the `stays` view) over a period,
/// streamed row by row (`MariaDBConnection.stream`), so an export of millions of rows runs
/// in constant memory. Times come out as UTC ISO 8601 (`2025-01-05T10:00:00.123Z`).
public struct ExportRepository {
    public enum Kind: String, CaseIterable, Sendable {
        case readings, events, alerts, stays
    }

    public let connection: MariaDBConnection

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    /// `DATETIME(3)` (UTC) as ISO 8601 text with `Z`; NULL stays NULL.
    private static func iso(_ column: String, as name: String) -> String {
        "CONCAT(REPLACE(CAST(\(column) AS CHAR), ' ', 'T'), 'Z') AS \(name)"
    }

    /// The rows of a sensor in `zone` (its configured zone, else its gateway's), by `sensors`.
    private func inZone(_ zone: String?, alias: String) throws -> String {
        guard let zone else { return "" }
        return """
             AND EXISTS (SELECT 1 FROM sensors s WHERE s.gateway_id = \(alias).gateway_id AND s.sensor_id = \(alias).sensor_id
                         AND COALESCE(s.zone_id, s.gateway_id) = \(try connection.quoted(zone)))
            """
    }

    /// The statement for one kind over `[fromMs, toMs)`: readings by `received_at` (in key
    /// order, which needs no sort), events by `at`, alerts by `created_at`, stays by
    /// `left_at` (the last three in time order).
    ///
    /// Readings are read through the primary key, named: where `readings` has an index by
    /// time (migration 7's `readings_time`, kept by a database that held readings at
    /// migration 8, or added by hand), the optimizer would otherwise take it for a period
    /// that is a small part of the table and sort its rows into key order (a day of 43
    /// million rows sorted on disk before the first row is written). In key order the rows stream as the server finds
    /// them, and partition pruning still keeps the scan to the period's days.
    public func statement(_ kind: Kind, fromMs: Int64, toMs: Int64, zone: String?) throws -> String {
        let from = SQLLiteral.time(fromMs), to = SQLLiteral.time(toMs)
        switch kind {
        case .readings:
            return """
                SELECT r.gateway_id, r.boot_id, r.seq, r.sensor_id, \(Self.iso("r.received_at", as: "received_at")), r.gateway_ms,
                       r.occupied, r.distance_cm, r.voltage_dv, r.current_ma, r.power_factor_pct
                FROM readings r FORCE INDEX (PRIMARY) WHERE r.received_at >= \(from) AND r.received_at < \(to)\(try inZone(zone, alias: "r"))
                ORDER BY r.gateway_id, r.boot_id, r.seq
                """
        case .events:
            let z = try zone.map { " AND COALESCE(e.zone_id, e.gateway_id) = \(try connection.quoted($0))" } ?? ""
            return """
                SELECT e.gateway_id, e.boot_id, e.seq, e.sensor_id, COALESCE(e.zone_id, e.gateway_id) AS zone_id, e.event,
                       \(Self.iso("e.at", as: "at"))
                FROM occupancy_events e WHERE e.at >= \(from) AND e.at < \(to)\(z)
                ORDER BY e.at, e.gateway_id, e.boot_id, e.seq
                """
        case .alerts:
            return """
                SELECT a.appliance, a.id, a.type, a.severity, a.subject, a.gateway_id, a.sensor_id, a.message,
                       \(Self.iso("a.created_at", as: "created_at")), \(Self.iso("a.acknowledged_at", as: "acknowledged_at")),
                       \(Self.iso("a.resolved_at", as: "resolved_at"))
                FROM alerts a WHERE a.created_at >= \(from) AND a.created_at < \(to)\(try inZone(zone, alias: "a"))
                ORDER BY a.created_at, a.appliance, a.id
                """
        case .stays:
            let z = try zone.map { " AND t.zone_id = \(try connection.quoted($0))" } ?? ""
            return """
                SELECT t.gateway_id, t.sensor_id, t.zone_id, \(Self.iso("t.arrived_at", as: "arrived_at")),
                       \(Self.iso("t.left_at", as: "left_at")), t.duration_seconds, t.billed_hours, t.amount_cents
                FROM stays t WHERE t.left_at >= \(from) AND t.left_at < \(to)\(z)
                ORDER BY t.left_at, t.gateway_id, t.sensor_id
                """
        }
    }

    /// Streams one kind: `columns` gets the column names, then `row` each row. The server
    /// may wait up to an hour for a slow reader (a pipe into a slow consumer) before it
    /// gives up on the connection. Returns the number of rows.
    @discardableResult
    public func export(_ kind: Kind, fromMs: Int64, toMs: Int64, zone: String?, columns: ([StreamedColumn]) throws -> Void,
                       row: (StreamedRow) throws -> Void) throws -> Int {
        let sql = try statement(kind, fromMs: fromMs, toMs: toMs, zone: zone)
        try connection.execute("SET SESSION net_write_timeout = 3600")
        return try connection.stream(sql, columns: columns, row)
    }
}
