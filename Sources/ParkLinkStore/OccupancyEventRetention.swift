/// Old occupancy events go with the readings they came from: `occupancy_events` keeps the
/// same number of days as `readings` (`[storage] retention_days`). The table is not
/// partitioned: at a normal rate it holds a few events per bay and day (thousands a day,
/// not the readings' millions), so old rows go by bounded DELETEs on its time index, at
/// most 100,000 per upkeep (a minute): far more than even a flapping storm adds.
/// The rollups' arrivals of those days were counted before the readings went, and the
/// `stays` view (billing) sees stays of the kept days only.
public struct OccupancyEventRetention {
    public let connection: MariaDBConnection

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    /// Deletes the events from before the first kept day as of `nowMs`; returns how many.
    @discardableResult
    public func prune(nowMs: Int64, retentionDays: Int) throws -> Int {
        let cutoff = ReadingPartitions.firstKeptDayMs(nowMs: nowMs, retentionDays: retentionDays)
        return try connection.deleteInChunks("DELETE FROM occupancy_events WHERE at < \(SQLLiteral.time(cutoff))")
    }
}
