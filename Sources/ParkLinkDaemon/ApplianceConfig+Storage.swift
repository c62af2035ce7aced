import ParkLinkSampler

extension ApplianceConfig {
    /// `[storage]`: readings' partitions and retention, the rollups' retention.
    static func parseStorage(_ s: inout ConfigSection) throws -> StorageUpkeepConfig {
        var storage = StorageUpkeepConfig()
        if let v = try s.int("retention_days", range: 1...3_650, fix: "retention_days = 90 (whole days of readings kept before today)") {
            storage.partitions.retentionDays = v
        }
        if let v = try s.int("partition_days_ahead", range: 1...60, fix: "partition_days_ahead = 7") {
            storage.partitions.daysAhead = v
        }
        if let v = try s.int("rollup_retention_days", range: 1...36_500, fix: "rollup_retention_days = 730 (two years)") {
            storage.rollupRetentionDays = v
        }
        if let v = try s.int("upkeep_interval_seconds", range: 5...3_600, fix: "upkeep_interval_seconds = 60") {
            storage.intervalMs = v * 1_000
        }
        try s.rejectUnknownKeys()
        return storage
    }
}
