/// 5-minute and hourly rollups per sensor and per zone, kept up to date incrementally.
///
/// What is new since the last refresh is found by key, not by time: a session's readings
/// are stored in seq order (the writer commits in arrival order, a drained spool oldest
/// first), so the rows above `rollup_progress.rolled_seq` of each (gateway_id, boot_id)
/// are exactly the ones not yet rolled, even when they were received hours ago (late rows
/// from a spool land in old buckets). Rows below `rolled_from` are a backlog (a session
/// first seen with rows already stored, e.g. after `parklink db partition`), rolled a
/// chunk per refresh after the new rows. Only the (sensor, bucket) pairs those rows touch
/// are recomputed, each from all its rolled raw rows (`GROUP BY`, `INSERT … ON DUPLICATE KEY
/// UPDATE`), so a refresh is idempotent: run twice, or by two appliances, the rows are
/// the same. Hours are sums of their 5-minute rows; zones are sums of their sensors'
/// rows, the zone being the sensor's in `sensors` (kept by the sampler from the zone
/// map), else its gateway's, as for `stays`. Arrivals come from `occupancy_events`.
///
/// A bucket's rows are found by key: `rollup_seq_ranges` records, for each boot and
/// bucket, the lowest and highest seq rolled there, and the bucket is read as those
/// ranges of the primary key. `readings` needs no index by time for it (migration 8 drops
/// it from a new database: the server's largest cost per reading after the key). A table
/// that held readings before migration 8 keeps its time index, and its buckets are read
/// by time, from all their raw rows: its older rows were rolled before any range was
/// recorded. Rows rolled up without ranges (by an older parklink sharing the database:
/// `rollup_progress.ranged_*` NULL or within `rolled_*`) get them, and their buckets are
/// recomputed, a chunk per refresh (by key only: by time they are not needed).
public struct ReadingRollups {
    public struct Refresh: Sendable, Equatable {
        /// False: another process of this server held the rollup lock; nothing was done.
        public var ran = true
        public var sessions = 0
        public var buckets = 0
    }

    public let connection: MariaDBConnection
    /// At most this many new seqs, and as many of the backlog, of one session per refresh,
    /// so a first refresh over a big table is spread over many cycles instead of holding
    /// the sampler for minutes.
    public var maxSeqsPerSession: UInt64

    public init(connection: MariaDBConnection, maxSeqsPerSession: UInt64 = 200_000) {
        self.connection = connection
        self.maxSeqsPerSession = maxSeqsPerSession
    }

    static let bucketSeconds: Int64 = 300

    /// Rolls up what was stored since the last refresh.
    @discardableResult
    public func refresh() throws -> Refresh {
        let c = connection
        let lock = "LEFT(CONCAT('parklink.rollups.', DATABASE()), 64)"
        guard try c.queryValue("SELECT GET_LOCK(\(lock), 0)") == "1" else { return Refresh(ran: false) }
        defer { _ = try? c.query("SELECT RELEASE_LOCK(\(lock))") }

        var rolled: [String: SessionProgress] = [:]
        for row in try c.query("SELECT gateway_id, boot_id, rolled_from, rolled_seq, ranged_from, ranged_seq FROM rollup_progress") {
            guard let g = row[0], let b = row[1], let from = row[2].flatMap({ UInt64($0) }),
                  let to = row[3].flatMap({ UInt64($0) }) else { continue }
            // NULL: an older parklink rolled this session up and recorded no range. Kept
            // within the rolled seqs (a hand-edited `rolled_*` must not stall the session).
            var p = SessionProgress(from: from, to: to, rangedFrom: to + 1, rangedTo: to)
            if let f = row[4].flatMap({ UInt64($0) }), let t = row[5].flatMap({ UInt64($0) }), max(from, f) <= min(to, t) {
                (p.rangedFrom, p.rangedTo) = (max(from, f), min(to, t))
            }
            rolled["\(g)/\(b)"] = p
        }
        var result = Refresh()
        let byKey = try !Self.hasTimeIndex(c)
        // gateway → 5-minute bucket (seconds since 1970 / 300) → sensors touched.
        var touched: [String: [Int64: Set<Int>]] = [:]
        var advanced: [(gateway: String, boot: String, progress: SessionProgress)] = []
        let chunk = min(max(1, maxSeqsPerSession), UInt64(UInt32.max))
        for (session, top) in try SessionScan(connection: c, table: "readings").maxima() {
            let g = session.gatewayId, b = String(session.bootId)
            // The newest rows first, then (a session first seen with a backlog, e.g. after
            // an upgrade) older ones a chunk at a time, so recent buckets never wait for
            // the backlog. Order does not matter to the result: a bucket is recomputed
            // from all its rolled rows.
            var ranges: [ClosedRange<UInt64>] = []
            var progress: SessionProgress
            if let p = rolled["\(g)/\(b)"] {
                progress = p
                if byKey {
                    // Rows rolled up by an older parklink sharing this database, which
                    // recorded no seq ranges: their ranges are recorded now and their buckets
                    // recomputed, a chunk per refresh, above the ranged seqs before any new
                    // row (the ranged seqs stay one interval), below them before the backlog.
                    if p.rangedTo < p.to {
                        progress.rangedTo = min(p.to, p.rangedTo + chunk)
                        ranges.append(p.rangedTo + 1...progress.rangedTo)
                    } else if p.rangedFrom > p.from {
                        progress.rangedFrom = max(p.from, p.rangedFrom > chunk ? p.rangedFrom - chunk : 0)
                        ranges.append(progress.rangedFrom...p.rangedFrom - 1)
                    }
                }
                if top > p.to, !byKey || progress.rangedTo == p.to {
                    progress.to = min(top, p.to + chunk)
                    ranges.append(p.to + 1...progress.to)
                    if progress.rangedTo == p.to { progress.rangedTo = progress.to }
                }
                if progress.from > 0, !byKey || progress.rangedFrom == p.from {
                    let low = progress.from > chunk ? progress.from - chunk : 0
                    ranges.append(low...progress.from - 1)
                    if progress.rangedFrom == progress.from { progress.rangedFrom = low }
                    progress.from = low
                }
            } else {
                let from = top + 1 > chunk ? top + 1 - chunk : 0
                progress = SessionProgress(from: from, to: top, rangedFrom: from, rangedTo: top)
                ranges.append(from...top)
            }
            guard !ranges.isEmpty else { continue }
            // Bucket → the lowest and highest seq of this session's rows rolled there.
            var seqs: [Int64: ClosedRange<UInt64>] = [:]
            for range in ranges {
                for t in try c.query("""
                    SELECT sensor_id, FLOOR(UNIX_TIMESTAMP(received_at) / \(Self.bucketSeconds)), MIN(seq), MAX(seq) FROM readings
                    WHERE gateway_id = \(try c.quoted(g)) AND boot_id = \(b) AND seq >= \(range.lowerBound) AND seq <= \(range.upperBound)
                    GROUP BY 1, 2
                    """) {
                    guard let sensor = t[0].flatMap({ Int($0) }), let bucket = t[1].flatMap({ Int64($0) }),
                          let low = t[2].flatMap({ UInt64($0) }), let high = t[3].flatMap({ UInt64($0) }) else { continue }
                    touched[g, default: [:]][bucket, default: []].insert(sensor)
                    seqs[bucket] = seqs[bucket].map { min($0.lowerBound, low)...max($0.upperBound, high) } ?? low...high
                }
            }
            // Before the buckets are recomputed: they are read through these ranges. One
            // statement a session (its ranges this refresh all lie among its rolled seqs).
            try recordSeqRanges(gateway: g, boot: b, seqs)
            advanced.append((g, b, progress))
            result.sessions += 1
        }
        var hours: [String: [Int64: Set<Int>]] = [:]
        var zoneBuckets: Set<Int64> = [], zoneHours: Set<Int64> = []
        for (gateway, buckets) in touched {
            for (bucket, sensors) in buckets {
                try rollSensors5m(gateway: gateway, bucket: bucket, sensors: sensors, byKey: byKey)
                hours[gateway, default: [:]][hourOf(bucket), default: []].formUnion(sensors)
                zoneBuckets.insert(bucket)
                result.buckets += 1
            }
        }
        for (gateway, byHour) in hours {
            for (hour, sensors) in byHour {
                try rollSensorsHour(gateway: gateway, hourBucket: hour, sensors: sensors)
                zoneHours.insert(hour)
            }
        }
        for bucket in zoneBuckets { try rollZones(from: "rollup_sensor_5m", into: "rollup_zone_5m", start: bucket * Self.bucketSeconds) }
        for hour in zoneHours { try rollZones(from: "rollup_sensor_hour", into: "rollup_zone_hour", start: hour * Self.bucketSeconds) }
        for a in advanced {
            let p = a.progress
            let ranged = p.rangedIsEmpty ? ("NULL", "NULL") : (String(p.rangedFrom), String(p.rangedTo))
            try c.execute("""
                INSERT INTO rollup_progress (gateway_id, boot_id, rolled_from, rolled_seq, ranged_from, ranged_seq, updated_at)
                VALUES (\(try c.quoted(a.gateway)), \(a.boot), \(p.from), \(p.to), \(ranged.0), \(ranged.1), UTC_TIMESTAMP(3))
                ON DUPLICATE KEY UPDATE rolled_seq = GREATEST(rolled_seq, VALUES(rolled_seq)),
                  rolled_from = LEAST(rolled_from, VALUES(rolled_from)), ranged_from = VALUES(ranged_from),
                  ranged_seq = VALUES(ranged_seq), updated_at = VALUES(updated_at)
                """)
        }
        return result
    }

    /// How far one session is rolled up (`from...to`), and the part of that whose seq
    /// ranges are recorded (`rangedFrom...rangedTo`, empty when `rangedFrom > rangedTo`).
    struct SessionProgress {
        var from: UInt64
        var to: UInt64
        var rangedFrom: UInt64
        var rangedTo: UInt64
        var rangedIsEmpty: Bool { rangedFrom > rangedTo }
    }

    /// The 5-minute bucket that starts the hour of `bucket`.
    private func hourOf(_ bucket: Int64) -> Int64 { bucket - bucket % 12 }

    static let updateSums = """
        readings = VALUES(readings), occupied_readings = VALUES(occupied_readings), arrivals = VALUES(arrivals),
        voltage_dv_sum = VALUES(voltage_dv_sum), voltage_count = VALUES(voltage_count),
        power_w_sum = VALUES(power_w_sum), power_count = VALUES(power_count)
        """

    static let sumColumns = "readings, occupied_readings, arrivals, voltage_dv_sum, voltage_count, power_w_sum, power_count"

    /// Whether `readings` has an index by time: a table that held readings when migration 8
    /// ran keeps one (`readings_time`, or `readings_sensor_time` from before migration 7).
    static func hasTimeIndex(_ c: MariaDBConnection) throws -> Bool {
        try c.queryValue("""
            SELECT COUNT(*) FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'readings'
              AND INDEX_NAME IN (\(SchemaMigrations.readingsTimeIndexNames.map { "'\($0)'" }.joined(separator: ", ")))
            """) != "0"
    }

    /// Widens the seq ranges of `boot` in each bucket to hold `seqs` (bucket → lowest and
    /// highest seq rolled there). Replayed, or run by two appliances, it gives the same rows.
    private func recordSeqRanges(gateway: String, boot: String, _ seqs: [Int64: ClosedRange<UInt64>]) throws {
        guard !seqs.isEmpty else { return }
        let c = connection, g = try c.quoted(gateway)
        let rows = seqs.sorted { $0.key < $1.key }.map { bucket, range in
            "(\(g), FROM_UNIXTIME(\(bucket * Self.bucketSeconds)), \(boot), \(range.lowerBound), \(range.upperBound))"
        }
        try c.execute("""
            INSERT INTO rollup_seq_ranges (gateway_id, bucket_start, boot_id, first_seq, last_seq) VALUES \(rows.joined(separator: ", "))
            ON DUPLICATE KEY UPDATE first_seq = LEAST(first_seq, VALUES(first_seq)), last_seq = GREATEST(last_seq, VALUES(last_seq))
            """)
    }

    /// The condition that picks a bucket's rows (of `readings`, or their events in
    /// `occupancy_events`, which share the key) by their seq ranges; nil: none recorded.
    private func keyRanges(gateway: String, bucketStart: Int64) throws -> String? {
        let c = connection
        let ranges = try c.query("""
            SELECT boot_id, first_seq, last_seq FROM rollup_seq_ranges
            WHERE gateway_id = \(try c.quoted(gateway)) AND bucket_start = FROM_UNIXTIME(\(bucketStart)) FOR UPDATE
            """).compactMap { r -> String? in
            guard let b = r[0], let first = r[1], let last = r[2] else { return nil }
            return "(boot_id = \(b) AND seq >= \(first) AND seq <= \(last))"
        }
        return ranges.isEmpty ? nil : "(" + ranges.joined(separator: " OR ") + ")"
    }

    /// Recomputes `sensors`' rows of one 5-minute bucket: by key (the bucket's seq ranges)
    /// or, where `readings` keeps a time index, by time. The arrivals are counted the same
    /// way from `occupancy_events`, whose rows share the readings' key and time.
    private func rollSensors5m(gateway: String, bucket: Int64, sensors: Set<Int>, byKey: Bool) throws {
        let c = connection
        let start = bucket * Self.bucketSeconds
        let from = "FROM_UNIXTIME(\(start))", to = "FROM_UNIXTIME(\(start + Self.bucketSeconds))"
        let g = try c.quoted(gateway), list = sensors.sorted().map(String.init).joined(separator: ",")
        // The ranges are read, locked, in the transaction that writes the rows: on a Galera
        // cluster (where the rollup lock is one node's) another node's refresh that widens
        // them meanwhile aborts this one (a replicated write on a locked row), which then
        // fails, instead of writing the bucket from the ranges it read before.
        try c.transaction {
            var rows = "gateway_id = \(g) AND sensor_id IN (\(list))"
            if byKey {
                guard let keys = try keyRanges(gateway: gateway, bucketStart: start) else { return }
                rows += " AND " + keys
            }
            try c.execute("""
                INSERT INTO rollup_sensor_5m (gateway_id, sensor_id, bucket_start, \(Self.sumColumns))
                SELECT \(g), r.sensor_id, \(from), r.n, r.occupied, COALESCE(a.n, 0), r.voltage_dv_sum, r.voltage_count,
                       r.power_w_sum, r.power_count
                FROM (SELECT sensor_id, COUNT(*) AS n, SUM(occupied) AS occupied,
                             COALESCE(SUM(voltage_dv), 0) AS voltage_dv_sum, COUNT(voltage_dv) AS voltage_count,
                             COALESCE(SUM(voltage_dv * current_ma * power_factor_pct / 1e6), 0) AS power_w_sum,
                             COUNT(voltage_dv * current_ma * power_factor_pct) AS power_count
                      FROM readings WHERE \(rows) AND received_at >= \(from) AND received_at < \(to)
                      GROUP BY sensor_id) r
                LEFT JOIN (SELECT sensor_id, COUNT(*) AS n FROM occupancy_events
                           WHERE \(rows) AND event = 'arrival' AND at >= \(from) AND at < \(to)
                           GROUP BY sensor_id) a ON a.sensor_id = r.sensor_id
                ON DUPLICATE KEY UPDATE \(Self.updateSums)
                """)
        }
    }

    private func rollSensorsHour(gateway: String, hourBucket: Int64, sensors: Set<Int>) throws {
        let c = connection
        let start = hourBucket * Self.bucketSeconds
        let g = try c.quoted(gateway), list = sensors.sorted().map(String.init).joined(separator: ",")
        try c.execute("""
            INSERT INTO rollup_sensor_hour (gateway_id, sensor_id, bucket_start, \(Self.sumColumns))
            SELECT gateway_id, sensor_id, FROM_UNIXTIME(\(start)), SUM(readings), SUM(occupied_readings), SUM(arrivals),
                   SUM(voltage_dv_sum), SUM(voltage_count), SUM(power_w_sum), SUM(power_count)
            FROM rollup_sensor_5m
            WHERE gateway_id = \(g) AND sensor_id IN (\(list))
              AND bucket_start >= FROM_UNIXTIME(\(start)) AND bucket_start < FROM_UNIXTIME(\(start + 3600))
            GROUP BY gateway_id, sensor_id
            ON DUPLICATE KEY UPDATE \(Self.updateSums)
            """)
    }

    /// One zone bucket, rebuilt whole from its sensors' rows (in one transaction: a sensor
    /// moved to another zone leaves nothing behind in the old one).
    private func rollZones(from: String, into: String, start: Int64) throws {
        let c = connection
        try c.begin()
        do {
            try c.execute("DELETE FROM \(into) WHERE bucket_start = FROM_UNIXTIME(\(start))")
            try c.execute(Self.zoneSums(from: from, into: into, where: "r.bucket_start = FROM_UNIXTIME(\(start))"))
            try c.commit()
        } catch {
            try? c.rollback()
            throw error
        }
    }

    /// Zone rows summed from sensor rows (`r`) that match `condition`.
    public static func zoneSums(from: String, into: String, where condition: String) -> String {
        """
        INSERT INTO \(into) (zone_id, sensors, bucket_start, \(sumColumns))
        SELECT COALESCE(s.zone_id, r.gateway_id), COUNT(*), r.bucket_start, SUM(r.readings), SUM(r.occupied_readings),
               SUM(r.arrivals), SUM(r.voltage_dv_sum), SUM(r.voltage_count), SUM(r.power_w_sum), SUM(r.power_count)
        FROM \(from) r LEFT JOIN sensors s ON s.gateway_id = r.gateway_id AND s.sensor_id = r.sensor_id
        WHERE \(condition)
        GROUP BY COALESCE(s.zone_id, r.gateway_id), r.bucket_start
        """
    }

    /// Deletes rollup rows older than `retentionDays` before `nowMs`, a bounded number per
    /// call (10,000 rows a statement, at most 10 statements a table): a day of 5-minute
    /// rows for 500 sensors is 144,000 rows, gone in a few calls, never one long DELETE.
    @discardableResult
    public func prune(nowMs: Int64, retentionDays: Int) throws -> Int {
        let cutoff = ReadingPartitions.firstKeptDayMs(nowMs: nowMs, retentionDays: retentionDays)
        var deleted = 0
        for table in ["rollup_sensor_5m", "rollup_sensor_hour", "rollup_zone_5m", "rollup_zone_hour"] {
            deleted += try connection.deleteInChunks("DELETE FROM \(table) WHERE bucket_start < \(SQLLiteral.time(cutoff))")
        }
        return deleted
    }

    /// Forgets the seq ranges of buckets before the first kept day of `readings`: their
    /// rows are gone, and no row can be stored there again.
    @discardableResult
    public func pruneSeqRanges(nowMs: Int64, retentionDays: Int) throws -> Int {
        let cutoff = ReadingPartitions.firstKeptDayMs(nowMs: nowMs, retentionDays: retentionDays)
        return try connection.deleteInChunks("DELETE FROM rollup_seq_ranges WHERE bucket_start < \(SQLLiteral.time(cutoff))")
    }

    /// Forgets the progress of sessions that have no reading left (their days were dropped
    /// by the retention): one row per gateway boot would otherwise pile up for ever. A
    /// session that sends again later is rolled up as a new one, from its stored rows, which
    /// gives the same rows (a bucket is always recomputed from all its raw rows).
    @discardableResult
    public func pruneProgress() throws -> Int {
        Int(try connection.execute("""
            DELETE p FROM rollup_progress p
            WHERE NOT EXISTS (SELECT 1 FROM readings r WHERE r.gateway_id = p.gateway_id AND r.boot_id = p.boot_id)
            """))
    }
}

extension MariaDBConnection {
    /// Runs `statement` (a DELETE without LIMIT) with `LIMIT chunk` until a run deletes
    /// fewer rows, at most `statements` times; returns the rows deleted. Each is its own
    /// short transaction: no long lock, no huge undo log, on Galera no huge write set.
    func deleteInChunks(_ statement: String, chunk: Int = 10_000, statements: Int = 10) throws -> Int {
        var deleted = 0
        for _ in 0..<statements {
            let n = Int(try execute("\(statement) LIMIT \(chunk)"))
            deleted += n
            if n < chunk { break }
        }
        return deleted
    }
}
