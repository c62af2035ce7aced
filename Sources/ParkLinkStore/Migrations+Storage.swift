extension SchemaMigrations {
    /// Version 6: `readings` partitioned by day of `received_at`, the rollup tables and the
    /// bookkeeping of their upkeep. Shipped: never edit, append a new migration instead.
    static let storageStatements: [String] = [
        // A NEW (empty) `readings` is partitioned here, at once: the primary key must hold
        // the partitioning column, so it becomes (gateway_id, boot_id, seq, received_at);
        // a reading keeps the received_at the reader stamped through every replay, so
        // INSERT IGNORE still stores it once (README "Storage: partitions, retention,
        // rollups"). Today and the 7 days after (UTC) get their partition now, and a
        // catch-all `pmax`: a new appliance then needs no partition DDL while its writer
        // runs until a day is missing (on Galera, DDL pauses the whole cluster). A table
        // that already holds rows is left alone: rebuilding it would stop ingestion, so
        // `parklink db partition` moves it over in chunks while the appliance runs.
        """
        BEGIN NOT ATOMIC
          DECLARE today DATE DEFAULT UTC_DATE();
          DECLARE days TEXT DEFAULT '';
          DECLARE i INT DEFAULT 0;
          IF NOT EXISTS (SELECT 1 FROM information_schema.PARTITIONS
                         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'readings' AND PARTITION_NAME IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM readings LIMIT 1) THEN
            WHILE i <= 7 DO
              SET days = CONCAT(days, 'PARTITION p', DATE_FORMAT(today + INTERVAL i DAY, '%Y%m%d'),
                                ' VALUES LESS THAN (''', today + INTERVAL i + 1 DAY, ' 00:00:00''), ');
              SET i = i + 1;
            END WHILE;
            EXECUTE IMMEDIATE CONCAT('ALTER TABLE readings DROP PRIMARY KEY, ADD PRIMARY KEY (gateway_id, boot_id, seq, received_at) ',
                                     'PARTITION BY RANGE COLUMNS (received_at) (', days, 'PARTITION pmax VALUES LESS THAN (MAXVALUE))');
          END IF;
        END
        """,
        // Per sensor and bucket: sums and counts, not means, so that hours and zones are
        // exact sums of 5-minute sensor rows (a mean of means would not be). Mean voltage:
        // voltage_dv_sum / voltage_count / 10; mean power: power_w_sum / power_count.
        rollupTable("rollup_sensor_5m", key: "gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,\n  sensor_id SMALLINT UNSIGNED NOT NULL,",
                    primary: "gateway_id, sensor_id, bucket_start"),
        rollupTable("rollup_sensor_hour", key: "gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,\n  sensor_id SMALLINT UNSIGNED NOT NULL,",
                    primary: "gateway_id, sensor_id, bucket_start"),
        // Per zone (the configured one, else the gateway's, as in `stays`): sums over its sensors.
        rollupTable("rollup_zone_5m", key: "zone_id VARCHAR(64) NOT NULL,\n  sensors INT UNSIGNED NOT NULL COMMENT 'sensors that reported',",
                    primary: "zone_id, bucket_start"),
        rollupTable("rollup_zone_hour", key: "zone_id VARCHAR(64) NOT NULL,\n  sensors INT UNSIGNED NOT NULL COMMENT 'sensors that reported',",
                    primary: "zone_id, bucket_start"),
        // How far each session's readings are rolled up: readings of one session are
        // stored in seq order, so rows above `rolled_seq` are the new ones, whatever their
        // received_at (a spool drained after an outage brings rows for old buckets); rows
        // below `rolled_from` were stored before the session was first rolled up.
        """
        CREATE TABLE IF NOT EXISTS rollup_progress (
          gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
          boot_id INT UNSIGNED NOT NULL,
          rolled_seq INT UNSIGNED NOT NULL COMMENT 'rows above it are new',
          rolled_from INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'rows below it are a backlog still to roll up',
          updated_at DATETIME(3) NOT NULL COMMENT 'UTC',
          PRIMARY KEY (gateway_id, boot_id)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """,
        // Where `parklink db partition` is in moving an unpartitioned `readings` over
        // (one row): resumable from the last key copied.
        """
        CREATE TABLE IF NOT EXISTS readings_upgrade (
          id TINYINT UNSIGNED NOT NULL,
          state ENUM('copying','swapped','done') NOT NULL,
          gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'last key copied; NULL: none yet',
          boot_id INT UNSIGNED NULL,
          seq INT UNSIGNED NULL,
          copied_rows BIGINT UNSIGNED NOT NULL DEFAULT 0,
          started_at DATETIME(3) NOT NULL COMMENT 'UTC',
          updated_at DATETIME(3) NOT NULL COMMENT 'UTC',
          PRIMARY KEY (id)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """,
    ]

    private static func rollupTable(_ name: String, key: String, primary: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(name) (
          \(key)
          bucket_start DATETIME NOT NULL COMMENT 'UTC, start of the bucket',
          readings INT UNSIGNED NOT NULL,
          occupied_readings INT UNSIGNED NOT NULL COMMENT 'occupied fraction: occupied_readings / readings',
          arrivals INT UNSIGNED NOT NULL COMMENT 'occupancy_events arrivals',
          voltage_dv_sum BIGINT UNSIGNED NOT NULL,
          voltage_count INT UNSIGNED NOT NULL,
          power_w_sum DOUBLE NOT NULL COMMENT 'W = voltage_dv/10 x current_ma/1000 x power_factor_pct/100',
          power_count INT UNSIGNED NOT NULL,
          PRIMARY KEY (\(primary)),
          KEY \(name)_bucket (bucket_start)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """
    }
}
