import ParkLinkProtocol

/// What happened since a moment, oldest first, for `parklink watch --since`: bay changes
/// (`occupancy_events`), alerts raised and resolved (`alerts`), overrides set and ended
/// (`overrides`), merged in time order.
///
/// Constant memory whatever the span: each of the five sources is read in pages of
/// `pageSize` rows by keyset (its time, then its key), and `next()` merges their heads.
public final class WatchHistory {
    /// One thing that happened.
    public enum Item: Sendable, Equatable {
        case bay(OccupancyEvent)
        case alertRaised(AlertRecord)
        case alertResolved(AlertRecord)
        case overrideSet(OverrideRecord)
        case overrideEnded(OverrideRecord)

        public var atMs: Int64 {
            switch self {
            case .bay(let b): b.atMs
            case .alertRaised(let a): a.createdAtMs
            case .alertResolved(let a): a.resolvedAtMs ?? a.createdAtMs
            case .overrideSet(let o): o.setAtMs
            case .overrideEnded(let o): o.endedAtMs ?? o.setAtMs
            }
        }
    }

    private let connection: MariaDBConnection
    private var sources: [Source]

    /// - Parameters:
    ///   - zone: only bay changes and overrides of this zone (alerts are not filtered here:
    ///     their zone is the zone map's business).
    public init(connection: MariaDBConnection, appliance: String, sinceMs: Int64, untilMs: Int64, zone: String?,
                pageSize: Int = 1_000) throws {
        self.connection = connection
        let me = try connection.quoted(appliance)
        let zoneCondition = try zone.map { " AND zone_id = \(try connection.quoted($0))" } ?? ""
        let span = { (column: String) in "\(column) >= \(SQLLiteral.time(sinceMs)) AND \(column) <= \(SQLLiteral.time(untilMs))" }
        let ms = { (column: String) in "ROUND(UNIX_TIMESTAMP(\(column)) * 1000)" }
        let alertColumns = """
            id, type, severity, subject, gateway_id, sensor_id, message, \(ms("created_at")), \(ms("acknowledged_at")), \(ms("resolved_at"))
            """
        sources = [
            Source(select: "SELECT \(ms("at")), gateway_id, boot_id, seq, sensor_id, zone_id, event = 'arrival' FROM occupancy_events",
                   filter: span("at") + zoneCondition, time: "at", key: ["gateway_id", "boot_id", "seq"], pageSize: pageSize) { r in
                guard let at = Self.ms(r[0]), let g = r[1], let b = r[2].flatMap({ UInt32($0) }), let s = r[3].flatMap({ UInt32($0) }),
                      let sensor = r[4].flatMap({ UInt16($0) }) else { return nil }
                return .bay(OccupancyEvent(gatewayId: g, bootId: b, seq: s, sensor: sensor, zoneId: r[5], arrival: r[6] == "1", atMs: at))
            },
            Source(select: "SELECT \(ms("created_at")), id, \(alertColumns) FROM alerts", filter: "appliance = \(me) AND " + span("created_at"),
                   time: "created_at", key: ["id"], pageSize: pageSize) { r in Self.alert(r).map(Item.alertRaised) },
            Source(select: "SELECT \(ms("resolved_at")), id, \(alertColumns) FROM alerts", filter: "appliance = \(me) AND " + span("resolved_at"),
                   time: "resolved_at", key: ["id"], pageSize: pageSize) { r in Self.alert(r).map(Item.alertResolved) },
            Source(select: "SELECT \(ms("set_at")), id, \(OverrideRepository.columns) FROM overrides",
                   filter: "appliance = \(me) AND " + span("set_at") + zoneCondition, time: "set_at", key: ["id"], pageSize: pageSize) { r in
                OverrideRepository.record(Array(r.dropFirst(2))).map(Item.overrideSet)
            },
            Source(select: "SELECT \(ms("ended_at")), id, \(OverrideRepository.columns) FROM overrides",
                   filter: "appliance = \(me) AND " + span("ended_at") + zoneCondition, time: "ended_at", key: ["id"], pageSize: pageSize) { r in
                OverrideRepository.record(Array(r.dropFirst(2))).map(Item.overrideEnded)
            },
        ]
    }

    /// The next item in time order (ties: bay changes, raised, resolved, set, ended), or
    /// nil at the end.
    public func next() throws -> Item? {
        var best: (index: Int, atMs: Int64)?
        for i in sources.indices {
            guard let head = try sources[i].head(connection) else { continue }
            if best == nil || head.atMs < best!.atMs { best = (i, head.atMs) }
        }
        guard let best else { return nil }
        return sources[best.index].pop()
    }

    private static func ms(_ s: String?) -> Int64? { s.flatMap { Double($0) }.map { Int64($0) } }

    private static func alert(_ r: [String?]) -> AlertRecord? {
        let a = Array(r.dropFirst(2))
        guard a.count >= 10, let id = a[0].flatMap({ UInt64($0) }), let type = a[1], let severity = a[2], let subject = a[3],
              let created = ms(a[7]) else { return nil }
        return AlertRecord(id: id, type: type, severity: severity, subject: subject, gatewayId: a[4],
                           sensorId: a[5].flatMap { UInt16($0) }, message: a[6] ?? "", createdAtMs: created,
                           acknowledgedAtMs: ms(a[8]), resolvedAtMs: ms(a[9]))
    }

    /// One table read by keyset: `(time, key…) > (last time, last key…)`, in pages.
    private struct Source {
        let select: String
        let filter: String
        let time: String
        let key: [String]
        let pageSize: Int
        let decode: ([String?]) -> Item?
        var page: [Item] = []
        var index = 0
        /// The raw time and key values of the last row read (nil: none yet).
        var cursor: [String]?
        var exhausted = false

        init(select: String, filter: String, time: String, key: [String], pageSize: Int, decode: @escaping ([String?]) -> Item?) {
            self.select = select
            self.filter = filter
            self.time = time
            self.key = key
            self.pageSize = pageSize
            self.decode = decode
        }

        mutating func head(_ c: MariaDBConnection) throws -> Item? {
            while index >= page.count {
                if exhausted { return nil }
                try fetch(c)
            }
            return page[index]
        }

        mutating func pop() -> Item {
            defer { index += 1 }
            return page[index]
        }

        private mutating func fetch(_ c: MariaDBConnection) throws {
            var condition = filter
            if let cursor {
                // The key columns follow the time in each select: 1…key.count.
                let names = ([time] + key).joined(separator: ", ")
                let values = try zip([time] + key, cursor).map { column, value in
                    column == time ? SQLLiteral.time(Int64(value) ?? 0) : try c.quoted(value)
                }.joined(separator: ", ")
                condition += " AND (\(names)) > (\(values))"
            }
            let order = ([time] + key).joined(separator: ", ")
            let rows = try c.query("\(select) WHERE \(condition) ORDER BY \(order) LIMIT \(pageSize)")
            page = rows.compactMap(decode)
            index = 0
            if let last = rows.last { cursor = Array(last[0...key.count].map { $0 ?? "" }) }
            exhausted = rows.count < pageSize
        }
    }
}
