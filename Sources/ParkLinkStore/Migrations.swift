/// The list of schema migrations. To change the schema, APPEND a `Migration` with the next
/// version number; never edit or reorder one that has shipped. Statements must be safe to
/// run twice (see `Migration`).
///
/// Conventions: InnoDB, utf8mb4; times are `DATETIME(3)` in UTC (every ParkLink connection
/// sets `time_zone = '+00:00'`); gateway ids are `VARCHAR(32) CHARACTER SET ascii COLLATE
/// ascii_bin` (the protocol allows only `[A-Za-z0-9_-]`, and ids are case-sensitive).
enum SchemaMigrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "readings, link gaps, gateway sessions", statements: [
            // The public contract: users query this table. One row per reading, stored once:
            // the primary key (gateway_id, boot_id, seq) makes a replayed batch harmless
            // (INSERT IGNORE). Rows of one boot arrive in seq order, so inserts append.
            """
            CREATE TABLE IF NOT EXISTS readings (
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
              boot_id INT UNSIGNED NOT NULL,
              seq INT UNSIGNED NOT NULL,
              sensor_id SMALLINT UNSIGNED NOT NULL,
              received_at DATETIME(3) NOT NULL COMMENT 'host receive time, UTC',
              gateway_ms INT UNSIGNED NOT NULL COMMENT 'gateway millis() at the sample',
              occupied TINYINT(1) NOT NULL,
              distance_cm SMALLINT UNSIGNED NULL,
              voltage_dv SMALLINT UNSIGNED NULL COMMENT 'decivolts',
              current_ma SMALLINT UNSIGNED NULL,
              power_factor_pct TINYINT UNSIGNED NULL,
              PRIMARY KEY (gateway_id, boot_id, seq),
              KEY readings_sensor_time (sensor_id, received_at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
            // Frames lost on the link, as detected from seq; a replay is harmless.
            """
            CREATE TABLE IF NOT EXISTS link_gaps (
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
              boot_id INT UNSIGNED NOT NULL,
              first_missing_seq INT UNSIGNED NOT NULL,
              missing_count INT UNSIGNED NOT NULL,
              detected_at DATETIME(3) NOT NULL COMMENT 'UTC',
              PRIMARY KEY (gateway_id, boot_id, first_missing_seq),
              KEY link_gaps_detected (detected_at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
            // One row per gateway boot. `synthetic` = 1: no HELLO came, the appliance named
            // the boot itself (firmware and sensor_count are then unknown).
            """
            CREATE TABLE IF NOT EXISTS gateway_sessions (
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
              boot_id INT UNSIGNED NOT NULL,
              firmware VARCHAR(16) NULL,
              sensor_count SMALLINT UNSIGNED NULL,
              first_seen_at DATETIME(3) NOT NULL COMMENT 'UTC',
              last_hello_at DATETIME(3) NULL COMMENT 'UTC',
              synthetic TINYINT(1) NOT NULL DEFAULT 0,
              PRIMARY KEY (gateway_id, boot_id)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
        ]),
        Migration(version: 2, name: "occupancy events, sensors, health history, alerts, zones, forecasts", statements: [
            // Arrivals and departures, written in the same transaction as the reading whose
            // `occupied` changed; keyed by that reading, so a replayed batch adds nothing.
            // Stays (arrival → departure) are derivable with LAG/LEAD over (gateway, sensor).
            """
            CREATE TABLE IF NOT EXISTS occupancy_events (
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
              boot_id INT UNSIGNED NOT NULL,
              seq INT UNSIGNED NOT NULL,
              sensor_id SMALLINT UNSIGNED NOT NULL,
              zone_id VARCHAR(64) NULL COMMENT 'NULL: sensor not in the zone map',
              event ENUM('arrival','departure') NOT NULL,
              at DATETIME(3) NOT NULL COMMENT 'UTC, the reading''s received_at',
              PRIMARY KEY (gateway_id, boot_id, seq),
              KEY occupancy_events_zone_time (zone_id, at),
              KEY occupancy_events_sensor_time (gateway_id, sensor_id, at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
            // Current state of each sensor, kept by the sampler.
            """
            CREATE TABLE IF NOT EXISTS sensors (
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
              sensor_id SMALLINT UNSIGNED NOT NULL,
              zone_id VARCHAR(64) NULL,
              bay VARCHAR(64) NULL,
              occupied TINYINT(1) NULL,
              last_seen_at DATETIME(3) NULL,
              health_score DECIMAL(5,1) NULL,
              voltage_mean_v DOUBLE NULL COMMENT '1-hour mean',
              power_mean_w DOUBLE NULL COMMENT '1-hour mean',
              updated_at DATETIME(3) NOT NULL,
              PRIMARY KEY (gateway_id, sensor_id),
              KEY sensors_health (health_score)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
            """
            CREATE TABLE IF NOT EXISTS sensor_health_history (
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
              sensor_id SMALLINT UNSIGNED NOT NULL,
              at DATETIME(3) NOT NULL,
              score DECIMAL(5,1) NOT NULL,
              recency DECIMAL(5,1) NOT NULL,
              voltage DECIMAL(5,1) NOT NULL,
              power DECIMAL(5,1) NOT NULL,
              alerts DECIMAL(5,1) NOT NULL,
              PRIMARY KEY (gateway_id, sensor_id, at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
            // At most one open (unacknowledged, unresolved) alert per (appliance, subject,
            // type): the generated `open_key` is NULL once acknowledged or resolved, and
            // unique otherwise. Ids are numbered per appliance.
            """
            CREATE TABLE IF NOT EXISTS alerts (
              appliance VARCHAR(191) NOT NULL COMMENT 'host:state-dir of the appliance that raised it (appliances may share a database)',
              id BIGINT UNSIGNED NOT NULL,
              type VARCHAR(32) NOT NULL,
              severity ENUM('info','warning','critical') NOT NULL,
              subject VARCHAR(80) NOT NULL COMMENT 'GATEWAY/SENSOR or a component: link, ring, store, spool',
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
              sensor_id SMALLINT UNSIGNED NULL,
              message VARCHAR(255) NOT NULL,
              created_at DATETIME(3) NOT NULL,
              acknowledged_at DATETIME(3) NULL,
              resolved_at DATETIME(3) NULL,
              open_key VARCHAR(320) AS (IF(acknowledged_at IS NULL AND resolved_at IS NULL, CONCAT(appliance, '|', subject, '|', type), NULL)) PERSISTENT,
              PRIMARY KEY (appliance, id),
              UNIQUE KEY alerts_one_open (open_key),
              KEY alerts_created (created_at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
            // Zone occupancy as the sampler saw it, for history and for scoring forecasts.
            """
            CREATE TABLE IF NOT EXISTS zone_occupancy (
              zone_id VARCHAR(64) NOT NULL,
              at DATETIME(3) NOT NULL,
              occupied INT UNSIGNED NOT NULL,
              capacity INT UNSIGNED NOT NULL,
              PRIMARY KEY (zone_id, at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
            // Forecasts with the time they were made; `actual` is filled in once the target
            // time has passed, so their error can be measured by query.
            """
            CREATE TABLE IF NOT EXISTS forecasts (
              zone_id VARCHAR(64) NOT NULL,
              made_at DATETIME(3) NOT NULL,
              horizon_minutes SMALLINT UNSIGNED NOT NULL,
              target_at DATETIME(3) NOT NULL,
              predicted DOUBLE NOT NULL,
              actual DOUBLE NULL,
              PRIMARY KEY (zone_id, made_at, horizon_minutes),
              KEY forecasts_due (actual, target_at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
        ]),
        Migration(version: 3, name: "link_gaps.reason", statements: [
            // Why a gap's readings are missing: `link` (lost between gateway and appliance:
            // every row before this migration) or `appliance_restart` (received by an
            // appliance that was killed before storing or spooling them). Told apart
            // because the fix differs: the cable or the gateway, or the host.
            """
            ALTER TABLE link_gaps ADD COLUMN IF NOT EXISTS
              reason ENUM('link','appliance_restart') NOT NULL DEFAULT 'link' AFTER missing_count
            """,
        ]),
        Migration(version: 4, name: "overrides", statements: [
            // A technician's override of a bay's state (`parklink override`): who set it (from
            // the status socket's peer credentials, never from what the client says), when,
            // why and until when; and when it ended and how (`auto`: set back by hand,
            // `expired`: its time ran out, `replaced`: a newer override of the same bay).
            // At most one active override per (appliance, bay): the generated `active_key` is
            // NULL once it has ended, and unique otherwise.
            """
            CREATE TABLE IF NOT EXISTS overrides (
              id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
              appliance VARCHAR(191) NOT NULL COMMENT 'host:state-dir of the appliance whose bay it is',
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
              sensor_id SMALLINT UNSIGNED NOT NULL,
              zone_id VARCHAR(64) NULL COMMENT 'NULL: sensor not in the zone map',
              state ENUM('occupied','free') NOT NULL,
              reason VARCHAR(255) NULL,
              set_by_uid INT UNSIGNED NOT NULL,
              set_by_user VARCHAR(64) NULL COMMENT 'account name of set_by_uid, NULL when it has none',
              set_by_pid INT UNSIGNED NOT NULL,
              set_at DATETIME(3) NOT NULL COMMENT 'UTC',
              expires_at DATETIME(3) NULL COMMENT 'UTC; NULL: until set back to auto',
              ended_at DATETIME(3) NULL COMMENT 'UTC; NULL while active',
              end_reason ENUM('auto','expired','replaced') NULL,
              ended_by_uid INT UNSIGNED NULL COMMENT 'who set it back to auto or replaced it; NULL when it expired',
              ended_by_user VARCHAR(64) NULL,
              active_key VARCHAR(240) AS (IF(ended_at IS NULL, CONCAT(appliance, '|', gateway_id, '|', sensor_id), NULL)) PERSISTENT,
              PRIMARY KEY (id),
              UNIQUE KEY overrides_one_active (active_key),
              KEY overrides_set (set_at),
              KEY overrides_ended (ended_at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
        ]),
        Migration(version: 5, name: "tariffs, stays view, occupancy_events by time", statements: [
            // The hourly rate each zone's stays are billed at, as the appliance's config
            // file says (written by the sampler at every start): the `stays` view needs it,
            // and a ticketing system reading the view has no config file. zone_id '' is
            // the default rate, for zones without their own and sensors in no configured
            // zone (they count in a zone named after their gateway).
            """
            CREATE TABLE IF NOT EXISTS tariffs (
              zone_id VARCHAR(64) NOT NULL COMMENT 'empty: the default rate',
              hourly_rate_cents INT UNSIGNED NOT NULL,
              updated_at DATETIME(3) NOT NULL COMMENT 'UTC',
              PRIMARY KEY (zone_id)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
            // Reports and exports read events by time alone (all zones).
            "CREATE INDEX IF NOT EXISTS occupancy_events_time ON occupancy_events (at)",
            // One row per stay: a bay's arrival followed by its departure. The zone is the
            // configured one, else the gateway's (a sensor in no configured zone counts in a
            // zone named after its gateway). Billed per started hour (integer arithmetic: a
            // decimal CEIL rounds away a millisecond past the hour), in integer cents, at
            // the zone's rate, else the default; NULL when no rate is recorded.
            """
            CREATE OR REPLACE VIEW stays AS
            SELECT s.gateway_id, s.sensor_id, s.zone_id, s.arrived_at, s.left_at,
                   TIMESTAMPDIFF(MICROSECOND, s.arrived_at, s.left_at) / 1000000 AS duration_seconds,
                   (TIMESTAMPDIFF(MICROSECOND, s.arrived_at, s.left_at) + 3599999999) DIV 3600000000 AS billed_hours,
                   (TIMESTAMPDIFF(MICROSECOND, s.arrived_at, s.left_at) + 3599999999) DIV 3600000000
                     * COALESCE(tz.hourly_rate_cents, td.hourly_rate_cents) AS amount_cents
            FROM (
              SELECT gateway_id, sensor_id, COALESCE(zone_id, gateway_id) AS zone_id, event,
                     LAG(event) OVER w AS previous_event, LAG(at) OVER w AS arrived_at, at AS left_at
              FROM occupancy_events
              WINDOW w AS (PARTITION BY gateway_id, sensor_id ORDER BY at, boot_id, seq)
            ) s
            LEFT JOIN tariffs tz ON tz.zone_id = s.zone_id
            LEFT JOIN tariffs td ON td.zone_id = ''
            WHERE s.event = 'departure' AND s.previous_event = 'arrival'
            """,
        ]),
        Migration(version: 6, name: "readings by day, rollups", statements: SchemaMigrations.storageStatements),
        Migration(version: 7, name: "readings indexed by time", statements: [
            // Every reading paid for a second B-tree entry in (sensor_id, received_at), at one
            // of 500 insertion points (one per sensor) in the middle of the index. One
            // append-only entry by time serves what reads readings by a short time range
            // (rollups of a 5-minute bucket, a user's "the last hour"); per-sensor history
            // over long ranges is what the rollup tables are for. Measured end to end: the
            // server's CPU per reading 7.3 → 6.3 µs (median), up to a fifth more readings/s
            // (benchmarks/README.md, "The readings index").
            // Only an EMPTY readings (a new database) is changed here, as migration 6 does:
            // building an index reads every row (4 million rows took 25 s here, 90 days at
            // 500 sensors would take hours), and the migration would hold the writer that
            // long (on Galera, every node's writes). A populated table keeps its index: the
            // two statements can be run by hand at a quiet time, and a table from before
            // migration 6 gets the new index when `parklink db partition` moves it (README
            // "The readings' index"). CREATE/DROP INDEX need the INDEX privilege, not ALTER.
            """
            BEGIN NOT ATOMIC
              IF NOT EXISTS (SELECT 1 FROM readings LIMIT 1) THEN
                \(readingsTimeIndex(on: "readings").joined(separator: ";\n    "));
              END IF;
            END
            """,
        ]),
        Migration(version: 8, name: "readings without a second index, rollups by key", statements: [
            // The time index was still the server's largest cost per reading after the key:
            // without it, end to end 166,763–175,469 readings/s against 124,815–140,321/s at
            // 200,000/s offered (benchmarks/README.md, "Migration 8"). The rollups,
            // its last user in the appliance, now find a bucket's rows by key ranges
            // recorded in `rollup_seq_ranges` below, and a bucket's arrivals by the same
            // ranges of `occupancy_events` (same key), so its (gateway, sensor, time) index,
            // used by nothing else, goes too, and so does (zone, time): the appliance asks
            // for a zone as COALESCE(zone_id, gateway_id), which no index serves, within a
            // time range, which `occupancy_events_time` does. A flapping storm (an event per
            // reading): 64,724–66,415 readings/s with both, 80,390–83,268 with neither
            // (benchmarks/README.md, "Migration 8"). Only EMPTY tables lose an index, as in
            // migrations 6 and 7: a populated table's rollups were computed by time before
            // any range was recorded, so they go on reading by its time index
            // (`ReadingRollups` looks at which the table has).
            """
            BEGIN NOT ATOMIC
              IF NOT EXISTS (SELECT 1 FROM readings LIMIT 1) THEN
                DROP INDEX IF EXISTS readings_time ON readings;
                DROP INDEX IF EXISTS readings_sensor_time ON readings;
              END IF;
              IF NOT EXISTS (SELECT 1 FROM occupancy_events LIMIT 1) THEN
                DROP INDEX IF EXISTS occupancy_events_sensor_time ON occupancy_events;
                DROP INDEX IF EXISTS occupancy_events_zone_time ON occupancy_events;
              END IF;
            END
            """,
            // For each gateway boot and 5-minute bucket, the lowest and highest seq the
            // rollups have rolled there: a bucket's rows are then a few ranges of the
            // primary key (one per boot that reported in it), whatever the clock did.
            """
            CREATE TABLE IF NOT EXISTS rollup_seq_ranges (
              gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
              bucket_start DATETIME NOT NULL COMMENT 'UTC, start of the 5-minute bucket',
              boot_id INT UNSIGNED NOT NULL,
              first_seq INT UNSIGNED NOT NULL,
              last_seq INT UNSIGNED NOT NULL,
              PRIMARY KEY (gateway_id, bucket_start, boot_id)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
            """,
        ]),
        Migration(version: 9, name: "rollup progress: the seqs whose ranges are recorded", statements: [
            // Which of a session's rolled seqs have their ranges in `rollup_seq_ranges`: an
            // older parklink sharing the database (a rolling upgrade of several appliances)
            // rolls rows up without recording any and leaves these NULL or behind
            // `rolled_*`; the refreshes of this version record them and recompute their
            // buckets. NULL on every row here: the first refreshes record them all.
            """
            ALTER TABLE rollup_progress
              ADD COLUMN IF NOT EXISTS ranged_from INT UNSIGNED NULL COMMENT 'seqs ranged_from..ranged_seq have their rollup_seq_ranges; NULL: none',
              ADD COLUMN IF NOT EXISTS ranged_seq INT UNSIGNED NULL
            """,
        ]),
    ]

    /// The indexes by time `readings` may have: migration 7's, and the one before it.
    static let readingsTimeIndexNames = ["readings_time", "readings_sensor_time"]

    /// Migration 7's index change on `table` (`readings`, or the upgrade's `readings_new`).
    static func readingsTimeIndex(on table: String) -> [String] {
        [
            "CREATE INDEX IF NOT EXISTS readings_time ON \(table) (received_at)",
            "DROP INDEX IF EXISTS readings_sensor_time ON \(table)",
        ]
    }
}
