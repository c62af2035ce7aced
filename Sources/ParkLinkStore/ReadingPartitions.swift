import ParkLinkProtocol

/// Daily partitions of `readings`: created ahead, dropped after the retention.
///
/// Each day `pYYYYMMDD` holds the rows received that UTC day (`VALUES LESS THAN` the next
/// midnight); the oldest partition also holds anything older. A last partition `pmax`
/// (`VALUES LESS THAN (MAXVALUE)`) takes what no day partition covers yet: without it a
/// row past the last day would be refused with 1526, which `INSERT IGNORE` turns into a
/// warning and a reading silently not stored (a clock stepped forward, upkeep not run for
/// longer than `daysAhead`). It stays empty while the upkeep runs, so splitting it into
/// new days (`REORGANIZE PARTITION`) moves no rows; if it ever holds rows the split copies
/// just those.
///
/// Old days go by `ALTER TABLE … DROP PARTITION`: a file removed, never a DELETE of
/// millions of rows.
public struct ReadingPartitions {
    public struct Partition: Sendable, Equatable {
        public var name: String
        /// Midnight (ms since 1970, UTC) that ends the partition; nil for `pmax`.
        public var endMs: Int64?
        /// The server's estimate (`TABLE_ROWS`).
        public var estimatedRows: Int
    }

    public struct Settings: Sendable, Equatable {
        /// Days after today that have their partition already.
        public var daysAhead = 7
        /// Full days before today that are kept; older day partitions are dropped.
        public var retentionDays = 90
        public init(daysAhead: Int = 7, retentionDays: Int = 90) {
            self.daysAhead = daysAhead
            self.retentionDays = retentionDays
        }
    }

    /// What one upkeep did.
    public struct Upkeep: Sendable, Equatable {
        /// False: `readings` is not partitioned yet (an upgraded database before
        /// `parklink db partition`): nothing was done.
        public var partitioned = true
        /// False: another process of this server held the upkeep lock; nothing was done.
        public var ran = true
        public var created: [String] = []
        public var dropped: [String] = []
    }

    public static let dayMs: Int64 = 86_400_000

    public let connection: MariaDBConnection
    public let table: String

    public init(connection: MariaDBConnection, table: String = "readings") {
        self.connection = connection
        self.table = table
    }

    /// The table's partitions in order; empty when it is not partitioned.
    public func partitions() throws -> [Partition] {
        try connection.query("""
            SELECT PARTITION_NAME, PARTITION_DESCRIPTION, TABLE_ROWS FROM information_schema.PARTITIONS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = \(try connection.quoted(table)) AND PARTITION_NAME IS NOT NULL
            ORDER BY PARTITION_ORDINAL_POSITION
            """).compactMap { row in
            guard let name = row[0] ?? nil else { return nil }
            let bound = (row[1] ?? nil) ?? "MAXVALUE"
            let end = bound == "MAXVALUE" ? nil : CivilTime.parse(bound.filter { $0 != "'" })?.millisecondsSinceEpoch
            return Partition(name: name, endMs: end, estimatedRows: Int((row[2] ?? nil) ?? "0") ?? 0)
        }
    }

    /// Makes sure today and `daysAhead` days after have their partition and drops the days
    /// older than the retention, as of `nowMs` (a parameter so that tests can move the
    /// clock). Under a named lock, so two appliances on one server do not race the same
    /// ALTER; on Galera the lock is per node, so an ALTER that lost a race with another
    /// node's (the partition exists, or is gone already) is answered by looking again.
    @discardableResult
    public func maintain(nowMs: Int64, settings: Settings = Settings()) throws -> Upkeep {
        let lock = "LEFT(CONCAT('parklink.partitions.', DATABASE(), '.', \(try connection.quoted(table))), 64)"
        guard try connection.queryValue("SELECT GET_LOCK(\(lock), 0)") == "1" else { return Upkeep(ran: false) }
        defer { _ = try? connection.query("SELECT RELEASE_LOCK(\(lock))") }
        do {
            return try maintainLocked(nowMs: nowMs, settings: settings)
        } catch let e as MariaDBError where Self.lostRace.contains(e.code.rawValue) {
            return try maintainLocked(nowMs: nowMs, settings: settings)
        }
    }

    /// 1493: a day's bound is no longer above the last one; 1507: a partition to drop is
    /// gone; 1517: a partition name exists: another node did it first.
    static let lostRace: Set<UInt32> = [1493, 1507, 1517]

    private func maintainLocked(nowMs: Int64, settings: Settings) throws -> Upkeep {
        var upkeep = Upkeep()
        let parts = try partitions()
        guard !parts.isEmpty else {
            upkeep.partitioned = false
            return upkeep
        }
        let today = Self.floorDay(nowMs)
        let lastEnd = parts.compactMap(\.endMs).max()
        var day = lastEnd ?? today
        var definitions: [String] = []
        while day <= today + Int64(settings.daysAhead) * Self.dayMs {
            definitions.append(Self.definition(day: day))
            upkeep.created.append(Self.name(day: day))
            day += Self.dayMs
        }
        if !definitions.isEmpty {
            if parts.last?.endMs == nil, let pmax = parts.last?.name {
                definitions.append("PARTITION \(pmax) VALUES LESS THAN (MAXVALUE)")
                try connection.execute("ALTER TABLE `\(table)` REORGANIZE PARTITION \(pmax) INTO (\(definitions.joined(separator: ", ")))")
            } else {
                try connection.execute("ALTER TABLE `\(table)` ADD PARTITION (\(definitions.joined(separator: ", ")))")
            }
        }
        let cutoff = Self.firstKeptDayMs(nowMs: nowMs, retentionDays: settings.retentionDays)
        let old = parts.filter { p in p.endMs.map { $0 <= cutoff } ?? false }.map(\.name)
        if !old.isEmpty {
            try connection.execute("ALTER TABLE `\(table)` DROP PARTITION \(old.joined(separator: ", "))")
            upkeep.dropped = old
        }
        return upkeep
    }

    /// The partitioning clause for a new, empty table: the days from `firstDayMs` to
    /// `daysAhead` after `nowMs`, and `pmax`.
    static func partitionClause(firstDayMs: Int64, nowMs: Int64, daysAhead: Int) -> String {
        var definitions: [String] = []
        var day = min(floorDay(firstDayMs), floorDay(nowMs))
        while day <= floorDay(nowMs) + Int64(daysAhead) * dayMs {
            definitions.append(definition(day: day))
            day += dayMs
        }
        definitions.append("PARTITION pmax VALUES LESS THAN (MAXVALUE)")
        return "PARTITION BY RANGE COLUMNS (received_at) (\(definitions.joined(separator: ", ")))"
    }

    /// Midnight (UTC) of the first full day kept `retentionDays` days before `nowMs`'s day:
    /// what is older goes (day partitions, their events, rollups past their own retention).
    static func firstKeptDayMs(nowMs: Int64, retentionDays: Int) -> Int64 {
        floorDay(nowMs) - Int64(retentionDays) * dayMs
    }

    static func floorDay(_ ms: Int64) -> Int64 {
        let d = ms / dayMs
        return (ms < 0 && ms % dayMs != 0 ? d - 1 : d) * dayMs
    }

    /// `p20261128` for the day that starts at `day`.
    static func name(day: Int64) -> String {
        "p" + Timestamps.sql(ms: day).prefix(10).filter { $0 != "-" }
    }

    static func definition(day: Int64) -> String {
        "PARTITION \(name(day: day)) VALUES LESS THAN ('\(Timestamps.sql(ms: day + dayMs).prefix(10)) 00:00:00')"
    }
}
