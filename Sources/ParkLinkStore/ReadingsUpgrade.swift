/// Moves an unpartitioned `readings` (a database from before schema version 6) to the
/// daily partitions while the appliance keeps writing: `parklink db partition`.
///
/// A plain `ALTER TABLE … PARTITION BY` would rebuild the table under a lock for as long
/// as it takes to copy every row. Instead:
/// 1. `readings_new` is made empty and partitioned (days from the retention's first day
///    to `daysAhead` after today, and `pmax`);
/// 2. the rows are copied in chunks of the primary key, each chunk and the last key
///    copied in one transaction (`readings_upgrade`), so an interrupted run goes on
///    where it stopped; the copy reads in READ COMMITTED, so it locks nothing the writer
///    needs;
/// 3. catch-up: rows the writer stored meanwhile. A session's rows are stored in seq
///    order (the writer commits in arrival order, the spool oldest first), so per
///    (gateway_id, boot_id) the rows above the highest seq copied are the new ones,
///    whatever their key's place (a new boot id may sort before the copy's cursor);
/// 4. `RENAME TABLE readings TO readings_unpartitioned, readings_new TO readings`, one
///    atomic statement: the writer waits for it only as long as it takes (it waits for
///    the writer's open transaction, at most `lock_wait_timeout` = 10 s, then retries);
/// 5. a last catch-up of what reached the old table between step 3 and the swap, from
///    the highest seqs recorded just before the swap (`readings_upgrade_sessions`).
/// Every copy is `INSERT IGNORE`: a repeated step stores nothing twice. The old table is
/// kept for the operator to check and drop.
public struct ReadingsUpgrade {
    public struct Outcome: Sendable, Equatable {
        public var alreadyPartitioned = false
        /// False: stopped by `shouldContinue` before the end; run again to go on.
        public var finished = false
        public var copiedRows = 0
        public var caughtUpRows = 0
        /// How long the RENAME took: the time the writer may have waited for the swap.
        public var swap: Duration = .zero
    }

    public enum UpgradeError: Error, Sendable, CustomStringConvertible {
        case busy
        public var description: String {
            "another `parklink db partition` is moving readings in this database (its lock is held); wait for it to finish"
        }
    }

    public let connection: MariaDBConnection
    public var settings: ReadingPartitions.Settings
    public var chunkRows: Int

    public init(connection: MariaDBConnection, settings: ReadingPartitions.Settings = .init(), chunkRows: Int = 10_000) {
        self.connection = connection
        self.settings = settings
        self.chunkRows = max(2, chunkRows)
    }

    typealias Key = (gatewayId: String, bootId: UInt32, seq: UInt32)
    struct Session: Hashable {
        var gatewayId: String
        var bootId: UInt32
    }

    /// Runs (or resumes) the upgrade; `shouldContinue` is asked between chunks.
    public func run(nowMs: Int64, shouldContinue: () -> Bool = { true }) throws -> Outcome {
        let c = connection
        let lock = "LEFT(CONCAT('parklink.upgrade.', DATABASE()), 64)"
        guard try c.queryValue("SELECT GET_LOCK(\(lock), 0)") == "1" else { throw UpgradeError.busy }
        defer { _ = try? c.query("SELECT RELEASE_LOCK(\(lock))") }
        try c.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        try c.execute("SET SESSION lock_wait_timeout = 10")

        var outcome = Outcome()
        let hasOld = try exists("readings_unpartitioned"), hasNew = try exists("readings_new")
        let partitioned = !(try ReadingPartitions(connection: c).partitions().isEmpty)
        if partitioned && !hasNew {
            guard hasOld, try state() != "done" else {
                outcome.alreadyPartitioned = !hasOld
                outcome.finished = true
                return outcome
            }
            // Swapped, not yet caught up (interrupted after the RENAME).
            outcome.caughtUpRows = try finishAfterSwap()
            outcome.finished = true
            return outcome
        }
        try prepare(nowMs: nowMs)
        while true {
            guard shouldContinue() else { return outcome }
            guard let n = try copyChunk() else { break }
            outcome.copiedRows += n
        }
        // Catch up until what is left is small, then swap.
        for _ in 0..<5 {
            guard shouldContinue() else { return outcome }
            let n = try catchUp(from: "readings", to: "readings_new", marks: try maxima("readings_new"))
            outcome.caughtUpRows += n
            if n < chunkRows { break }
        }
        outcome.caughtUpRows += try catchUp(from: "readings", to: "readings_new", marks: try maxima("readings_new"))
        try c.execute("DELETE FROM readings_upgrade_sessions")
        for (session, top) in try maxima("readings_new") {
            try c.execute("""
                INSERT INTO readings_upgrade_sessions (gateway_id, boot_id, seq)
                VALUES (\(try c.quoted(session.gatewayId)), \(session.bootId), \(top))
                """)
        }
        let renaming = ContinuousClock.now
        try c.execute("RENAME TABLE readings TO readings_unpartitioned, readings_new TO readings")
        outcome.swap = ContinuousClock.now - renaming
        try c.execute("UPDATE readings_upgrade SET state = 'swapped', updated_at = UTC_TIMESTAMP(3) WHERE id = 1")
        outcome.caughtUpRows += try finishAfterSwap()
        outcome.finished = true
        return outcome
    }

    /// The empty partitioned table and the progress rows, unless an earlier run made them.
    private func prepare(nowMs: Int64) throws {
        let c = connection
        try c.execute("""
            CREATE TABLE IF NOT EXISTS readings_upgrade_sessions (
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
              boot_id INT UNSIGNED NOT NULL,
              seq INT UNSIGNED NOT NULL COMMENT 'highest seq in readings_new just before the swap',
              PRIMARY KEY (gateway_id, boot_id)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """)
        try c.execute("CREATE TABLE IF NOT EXISTS readings_new LIKE readings")
        if try ReadingPartitions(connection: c, table: "readings_new").partitions().isEmpty {
            let first = ReadingPartitions.firstKeptDayMs(nowMs: nowMs, retentionDays: settings.retentionDays)
            try c.execute("""
                ALTER TABLE readings_new DROP PRIMARY KEY, ADD PRIMARY KEY (gateway_id, boot_id, seq, received_at)
                \(ReadingPartitions.partitionClause(firstDayMs: first, nowMs: nowMs, daysAhead: settings.daysAhead))
                """)
        }
        // The index of migration 7, whatever `readings` had when an interrupted earlier run
        // made `readings_new` (migration 7 itself touches only `readings`).
        for statement in SchemaMigrations.readingsTimeIndex(on: "readings_new") { try c.execute(statement) }
        try c.execute("""
            INSERT IGNORE INTO readings_upgrade (id, state, started_at, updated_at)
            VALUES (1, 'copying', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))
            """)
    }

    /// Copies the next `chunkRows` rows after the recorded key; returns how many were new
    /// (nil: nothing is left after the key).
    private func copyChunk() throws -> Int? {
        let c = connection
        let row = try c.query("SELECT gateway_id, boot_id, seq FROM readings_upgrade WHERE id = 1").first ?? []
        var after: Key?
        if row.count == 3, let g = row[0] ?? nil, let b = row[1].flatMap({ UInt32($0) }), let s = row[2].flatMap({ UInt32($0) }) {
            after = (g, b, s)
        }
        let from = try after.map { try " WHERE " + keyAbove($0) } ?? ""
        // The chunk's last key: the chunkRows-th after the cursor, else the table's last.
        var upper = try c.query("SELECT gateway_id, boot_id, seq FROM readings\(from) ORDER BY gateway_id, boot_id, seq LIMIT \(chunkRows - 1), 1").first
        if upper == nil {
            upper = try c.query("SELECT gateway_id, boot_id, seq FROM readings\(from) ORDER BY gateway_id DESC, boot_id DESC, seq DESC LIMIT 1").first
        }
        guard let u = upper, let g = u[0], let b = u[1].flatMap({ UInt32($0) }), let s = u[2].flatMap({ UInt32($0) }) else { return nil }
        let upto = try keyAtMost((g, b, s))
        try c.begin()
        do {
            let n = try c.execute("INSERT IGNORE INTO readings_new SELECT * FROM readings WHERE \(try after.map { try keyAbove($0) + " AND " } ?? "")\(upto)")
            try c.execute("""
                UPDATE readings_upgrade SET gateway_id = \(try c.quoted(g)), boot_id = \(b), seq = \(s),
                  copied_rows = copied_rows + \(n), updated_at = UTC_TIMESTAMP(3) WHERE id = 1
                """)
            try c.commit()
            return Int(n)
        } catch {
            try? c.rollback()
            throw error
        }
    }

    /// Copies, per session of `from`, the rows above its mark (all of a session without one).
    private func catchUp(from: String, to: String, marks: [Session: UInt32]) throws -> Int {
        var copied = 0
        for (session, top) in try maxima(from) {
            let mark = marks[session]
            if let mark, mark >= top { continue }
            let above = mark.map { " AND seq > \($0)" } ?? ""
            copied += Int(try connection.execute("""
                INSERT IGNORE INTO \(to) SELECT * FROM \(from)
                WHERE gateway_id = \(try connection.quoted(session.gatewayId)) AND boot_id = \(session.bootId)\(above)
                """))
        }
        return copied
    }

    private func finishAfterSwap() throws -> Int {
        var marks: [Session: UInt32] = [:]
        for row in try connection.query("SELECT gateway_id, boot_id, seq FROM readings_upgrade_sessions") {
            guard let g = row[0], let b = row[1].flatMap({ UInt32($0) }), let s = row[2].flatMap({ UInt32($0) }) else { continue }
            marks[Session(gatewayId: g, bootId: b)] = s
        }
        let n = try catchUp(from: "readings_unpartitioned", to: "readings", marks: marks)
        try connection.execute("UPDATE readings_upgrade SET state = 'done', updated_at = UTC_TIMESTAMP(3) WHERE id = 1")
        return n
    }

    /// Highest seq per session (`SessionScan`: two index lookups a session, never a scan).
    private func maxima(_ table: String) throws -> [Session: UInt32] {
        var out: [Session: UInt32] = [:]
        for (s, top) in try SessionScan(connection: connection, table: table).maxima() {
            out[Session(gatewayId: s.gatewayId, bootId: s.bootId)] = UInt32(truncatingIfNeeded: top)
        }
        return out
    }

    private func state() throws -> String? {
        try connection.queryValue("SELECT state FROM readings_upgrade WHERE id = 1")
    }

    private func exists(_ table: String) throws -> Bool {
        try connection.queryValue("""
            SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '\(table)'
            """) == "1"
    }

    /// Key order as OR-ed ranges, which the optimizer reads as ranges of the primary key.
    private func keyAbove(_ k: Key) throws -> String {
        let g = try connection.quoted(k.gatewayId)
        return "(gateway_id > \(g) OR (gateway_id = \(g) AND (boot_id > \(k.bootId) OR (boot_id = \(k.bootId) AND seq > \(k.seq)))))"
    }

    private func keyAtMost(_ k: Key) throws -> String {
        let g = try connection.quoted(k.gatewayId)
        return "(gateway_id < \(g) OR (gateway_id = \(g) AND (boot_id < \(k.bootId) OR (boot_id = \(k.bootId) AND seq <= \(k.seq)))))"
    }
}
