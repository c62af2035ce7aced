import Logging
import ParkLinkAnalytics
import ParkLinkIngest
import ParkLinkStore

/// The writer's `BatchStore` over MariaDB: one transaction per batch holding the
/// readings (array binding or multi-row INSERT IGNORE) and the link events.
///
/// Created on the writer thread and used only there (a Connector/C connection belongs to
/// one thread); `MariaDB.threadInit()`/`threadEnd()` bracket its life for that reason.
final class MariaDBBatchStore: BatchStore {
    let dsn: DSN
    let method: ApplianceConfig.InsertMethod
    let maxRows: Int
    let sessions: SessionResolving
    let zones: ZoneMap
    private var occupancy = OccupancyTracker()
    private var seeded = false
    private var connection: MariaDBConnection?
    private var eventRecorder: OccupancyEventRecorder?
    private var inserter: ReadingBatchInserter?
    private var recorder: SessionRecorder?
    private var migrated = false

    init(dsn: DSN, method: ApplianceConfig.InsertMethod, maxRows: Int, sessions: SessionResolving, zones: ZoneMap) {
        self.zones = zones
        self.dsn = dsn
        self.method = method
        self.maxRows = maxRows
        self.sessions = sessions
        MariaDB.threadInit()
    }

    deinit {
        disconnect()
        MariaDB.threadEnd()
    }

    func connect() throws {
        disconnect()
        let c = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(5), readTimeout: .seconds(30), writeTimeout: .seconds(30))
        if !migrated {
            _ = try Schema.migrate(c)
            migrated = true
        }
        connection = c
        switch method {
        case .arrayBinding: inserter = ArrayBindingInserter(connection: c, maxBatchSize: maxRows)
        case .multiRow: inserter = MultiRowInserter(connection: c)
        }
        recorder = SessionRecorder(connection: c)
        eventRecorder = OccupancyEventRecorder(connection: c)
        if !seeded {
            // Where each bay stood when the appliance last ran, so the first reading after
            // a restart is not taken for an arrival or a departure.
            var known: [SensorKey: Bool] = [:]
            for row in try c.query("SELECT gateway_id, sensor_id, occupied FROM sensors WHERE occupied IS NOT NULL") {
                if let g = row[0], let s = row[1].flatMap({ UInt16($0) }), let o = row[2] {
                    known[SensorKey(gatewayId: g, sensor: s)] = o == "1"
                }
            }
            occupancy.seed(known)
            seeded = true
        }
    }

    func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int {
        guard let c = connection, let inserter, let recorder, let eventRecorder else { throw MariaDBError.notConnected }
        let (occupancyEvents, undo) = occupancy.apply(rows, sessions: sessions, zones: zones)
        do {
            try c.begin()
        } catch {
            occupancy.revert(undo)
            throw error
        }
        do {
            var inserted = 0
            if rows.count > 0 {
                try inserter.insert(rows, sessions: sessions)
                inserted = inserter.lastInsertedCount
            }
            try eventRecorder.record(occupancyEvents)
            for e in events {
                switch e {
                case .session(let key, let hello?, let at):
                    precondition(key.gatewayId == hello.gatewayId && key.bootId == hello.bootId)
                    try recorder.recordSession(hello: hello, seenAtMs: at)
                case .session(let key, nil, let at):
                    try recorder.recordSession(synthetic: key, firstSeenAtMs: at)
                case .gap(let key, let first, let count, let at):
                    try recorder.recordGap(session: key, firstMissingSeq: first, missingCount: count, detectedAtMs: at)
                }
            }
            try c.commit()
            return inserted
        } catch {
            // An unknown commit outcome is treated as not committed: the batch is written
            // again, and the same events with it (their key makes the replay harmless).
            occupancy.revert(undo)
            try? c.rollback()
            throw error
        }
    }

    func disconnect() {
        inserter = nil
        recorder = nil
        eventRecorder = nil
        connection?.close()
        connection = nil
    }
}

extension MariaDBBatchStore {
    /// Where each gateway's most recent sessions left off (next expected seq), so that a restarted
    /// appliance hearing a HELLO for a boot it already stored does not record the
    /// stored readings as a gap. Best effort: an unreachable database yields nothing.
    static func resumePoints(dsn: DSN, sessions limit: Int = 8) -> [SessionKey: UInt64] {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        guard let c = try? MariaDBConnection(dsn: dsn, connectTimeout: .seconds(2), readTimeout: .seconds(10), writeTimeout: .seconds(10)) else {
            return [:]
        }
        defer { c.close() }
        guard (try? Schema.migrate(c)) != nil,
              let rows = try? c.query("""
                SELECT gateway_id, boot_id,
                       (SELECT MAX(r.seq) FROM readings r WHERE r.gateway_id = t.gateway_id AND r.boot_id = t.boot_id)
                FROM (SELECT gateway_id, boot_id,
                             ROW_NUMBER() OVER (PARTITION BY gateway_id
                                                ORDER BY COALESCE(last_hello_at, first_seen_at) DESC) AS newest
                      FROM gateway_sessions) t
                WHERE newest <= \(limit)
                """)
        else { return [:] }
        var out: [SessionKey: UInt64] = [:]
        for row in rows {
            guard row.count == 3, let g = row[0], let b = row[1].flatMap({ UInt32($0) }),
                  let m = row[2].flatMap({ UInt64($0) }) else { continue }
            out[SessionKey(gatewayId: g, bootId: b)] = m + 1
        }
        return out
    }
}

extension MariaDBError {
    static var notConnected: MariaDBError {
        MariaDBError(code: .serverGone, message: "not connected", operation: .connect)
    }
}

extension Pipeline {
    /// A pipeline writing to MariaDB at `dsn`, resuming seq tracking from what is stored.
    /// `MariaDB.initializeLibrary()` must have been called.
    public static func overMariaDB(options: Options, dsn: DSN, logger: Logger) throws -> Pipeline {
        var o = options
        if o.resume.isEmpty { o.resume = MariaDBBatchStore.resumePoints(dsn: dsn) }
        let method = o.config.insertMethod, maxRows = o.config.batchMaxRows, zones = o.config.zones
        return try Pipeline(options: o, logger: logger) {
            MariaDBBatchStore(dsn: dsn, method: method, maxRows: maxRows, sessions: $0, zones: zones)
        }
    }
}
