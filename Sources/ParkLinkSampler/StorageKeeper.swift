import Logging
import ParkLinkStore

/// How the appliance keeps its storage: `[storage]` in the config file.
public struct StorageUpkeepConfig: Sendable, Equatable {
    /// Between two upkeeps (partitions, rollups, rollup retention).
    public var intervalMs = 60_000
    /// Days ahead that have a partition, and full days of readings kept before today.
    public var partitions = ReadingPartitions.Settings()
    /// Rollup rows are kept this long (they are small: 2 years of 500 sensors' hourly
    /// and 5-minute rows is about 2 GB).
    public var rollupRetentionDays = 730

    public init() {}
}

/// The sampler's low-frequency storage work: `readings`' daily partitions ahead and old
/// days dropped, the rollups refreshed, old rollup rows pruned. On the sampler's thread
/// and connection, never the reader's or the writer's: an ALTER that waits for a lock
/// (or, on Galera, for the cluster) delays only the sampler.
final class StorageKeeper {
    /// The first cycle only starts the clock: the first upkeep comes one interval after
    /// the start (the migration made the first week's partitions), so it never slows the
    /// sampler's first cycles, when alerts and zones are first worked out.
    private var lastRunMs: Int64?
    private var warnedUnpartitioned = false

    /// Runs the upkeep if `intervalMs` has passed since the last; returns an error text
    /// when the database failed (the caller drops the connection).
    func runIfDue(_ store: SamplerDatabase, config: StorageUpkeepConfig, nowMs: Int64, logger: Logger) -> String? {
        guard let last = lastRunMs else {
            lastRunMs = nowMs
            return nil
        }
        guard nowMs - last >= Int64(config.intervalMs) else { return nil }
        lastRunMs = nowMs
        do {
            let c = try store.connection.get()
            let upkeep = try ReadingPartitions(connection: c).maintain(nowMs: nowMs, settings: config.partitions)
            if !upkeep.partitioned && !warnedUnpartitioned {
                warnedUnpartitioned = true
                logger.warning("storage: readings is not partitioned (a database from before schema version 6): old days are not dropped", metadata: [
                    "storage.fix": "run `parklink db partition` (it moves readings over while the appliance runs; README \"Storage\")",
                ])
            }
            if !upkeep.created.isEmpty || !upkeep.dropped.isEmpty {
                logger.notice("storage: readings partitions", metadata: [
                    "storage.created": "\(upkeep.created.joined(separator: ","))", "storage.dropped": "\(upkeep.dropped.joined(separator: ","))",
                    "storage.retention_days": "\(config.partitions.retentionDays)",
                ])
            }
            let rollups = ReadingRollups(connection: c)
            let refreshed = try rollups.refresh()
            let pruned = try rollups.prune(nowMs: nowMs, retentionDays: config.rollupRetentionDays)
            // Events go with their readings: not while `readings` keeps every day (unpartitioned).
            let events = upkeep.partitioned
                ? try OccupancyEventRetention(connection: c).prune(nowMs: nowMs, retentionDays: config.partitions.retentionDays) : 0
            // The rollups' bookkeeping of dropped days: sessions without a reading left, and
            // the seq ranges of buckets before the first kept day.
            var forgotten = (sessions: 0, ranges: 0)
            if !upkeep.dropped.isEmpty {
                forgotten = (try rollups.pruneProgress(),
                             try rollups.pruneSeqRanges(nowMs: nowMs, retentionDays: config.partitions.retentionDays))
            }
            logger.debug("storage: rollups and retention", metadata: [
                "storage.sessions": "\(refreshed.sessions)", "storage.buckets": "\(refreshed.buckets)", "storage.pruned": "\(pruned)",
                "storage.events_pruned": "\(events)", "storage.sessions_forgotten": "\(forgotten.sessions)",
                "storage.seq_ranges_forgotten": "\(forgotten.ranges)",
            ])
            return nil
        } catch {
            logger.warning("storage: upkeep failed; will retry", metadata: ["storage.error": "\(error)"])
            return "\(error)"
        }
    }
}
