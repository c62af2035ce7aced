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
        // Migration 2+ (occupancy events, sensors, alerts, forecasts, health history) go here.
    ]
}
