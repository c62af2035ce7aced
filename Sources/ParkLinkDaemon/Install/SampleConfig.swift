/// The `/etc/parklink/parklink.toml` that `parklink install` writes when there is none:
/// every key the loader knows, each with what it does, set to its default and commented
/// out (`#key = value`; explanations are `# text`). Two lines are live because they tie the
/// installed pieces together: the device is the udev rule's symlink, and the state
/// directory is the unit's `StateDirectory=`, so `parklink run --check --config` and
/// `parklink status` agree with the service whoever runs them.
public enum SampleConfig {
    public static let text = """
        # ParkLink configuration (TOML). Written by `parklink install`; it keeps your edits (a
        # reinstall never writes over this file). Lines `#key = value` show the default: remove
        # the `#` to change one. Command-line options of `parklink run` override this file.
        # Check it, and the device, state directory and database it names, with:
        #   sudo -u parklink parklink run --check --config /etc/parklink/parklink.toml

        [link]
        # The gateway's serial device: the udev rule's stable name (any /dev/tty* works).
        device = "/dev/parklink-gateway"
        # Baud rate (a USB CDC gateway ignores it).
        #baud = 115200
        # Wire framing: "text" or "binary".
        #framing = "text"
        # Readings no HELLO names within this many ms are stored under a synthetic session.
        #hello_timeout_ms = 2000
        # The gateway id for such readings.
        #fallback_gateway_id = "unknown"
        # SCHED_FIFO (or nice -10) for the reader thread when allowed (the unit allows it).
        #realtime_reader = true
        # (gateway, boot) sessions one run keeps; past it new sessions are refused and counted.
        #max_sessions = 4096
        # On a slow line, ms the reader pauses between reads so frames come in batches (0: each as it comes).
        #coalesce_ms = 20

        [database]
        # Without a dsn, parklink starts a private MariaDB in the state directory.
        # A local server: "mysql://parklink@localhost/parklink?socket=/run/mysqld/mysqld.sock".
        # Never a password here: use password_file (or PARKLINK_DB_PASSWORD in /etc/parklink/env).
        #dsn = "mysql://parklink@db.example/parklink"
        # The password on its first line; owned by parklink or root, mode 0600:
        #   sudo install -m 600 -o parklink /dev/null /etc/parklink/db-password
        #password_file = "/etc/parklink/db-password"

        [pipeline]
        # Readings the ring holds between the reader and the writer.
        #ring_capacity = 262144
        # Rows per database transaction, and how long (ms) a batch waits to fill.
        #batch_max_rows = 20000
        #batch_linger_ms = 20
        # The linger after a batch of fewer than 64 readings (a slow line: fewer commits).
        #idle_linger_ms = 80
        # Hold a bay's change of state until it has lasted this many ms (0: off); what it
        # suppresses is counted in status.
        #occupancy_debounce_ms = 0
        # "array-binding" or "multi-row".
        #insert_method = "array-binding"
        # On SIGTERM with the database away: seconds of retries before the rest is spooled.
        # Above 100, raise the unit's TimeoutStopSec too (systemctl edit parklink).
        #shutdown_grace_seconds = 30

        [spool]
        # Readings the ring cannot take go to the spool in the state directory.
        #enabled = true
        # The cap; past it readings are counted as dropped_full (SPOOL_FULL alert).
        #max_megabytes = 2048
        # How often spooled data is made durable (fdatasync), in ms.
        #sync_interval_ms = 250
        # Spool once the ring is this full (or the writer stalls).
        #high_water_percent = 50

        [state]
        # The status socket, the spool, the private database. The service may write only
        # here (the unit's StateDirectory=); elsewhere needs ReadWritePaths= in the unit.
        directory = "/var/lib/parklink"

        [metrics]
        # Prometheus text on GET /metrics at this address (off when absent). Loopback
        # unless a scraper elsewhere needs it: the counters show the car park's traffic.
        #listen = "127.0.0.1:9464"

        [sampler]
        # Seconds between the sampler's runs (health, alerts, zones, forecasts).
        #interval_seconds = 5
        # Seconds between rows of sensor_health_history.
        #health_history_interval_seconds = 60
        # The tariff for the revenue figure, in cents per started hour.
        #hourly_rate_cents = 0
        # The day boundary for "arrivals today" (an IANA name).
        #timezone = "UTC"
        # DEVICE_OFFLINE after this many seconds without a reading.
        #offline_after_seconds = 120
        # HIGH_POWER above this many watts.
        #high_power_watts = 1500
        # LOW_HEALTH below this score (0-100).
        #low_health_below = 30
        # RING_HIGH above this fill (0-1).
        #ring_high_fraction = 0.8
        # ZONE_FILLING when the forecast sees a zone full within this many minutes (0-60).
        #zone_filling_minutes = 30
        # SENSOR_FLAPPING when a bay changes state more often than this within a minute.
        #flapping_changes_per_minute = 6

        [storage]
        # Whole days of readings kept before today; older days are dropped a partition at
        # a time (readings is partitioned by day of received_at).
        #retention_days = 90
        # Days after today that already have their partition.
        #partition_days_ahead = 7
        # The 5-minute and hourly rollups are kept this many days.
        #rollup_retention_days = 730
        # Seconds between two upkeeps (partitions, rollups), on the sampler's thread.
        #upkeep_interval_seconds = 60

        #[notify]
        # Alert notifications (off when absent). POST the alert as JSON (http:// only).
        #webhook = "http://alerts.example:8080/parklink"
        # Run with /bin/sh -c; exit 0 = delivered.
        #command = "/usr/local/bin/page-oncall"
        # Alerts raised at this severity or above are sent (info, warning, critical).
        #min_severity = "warning"
        # A critical alert open and unacknowledged this long is escalated (0: never).
        #escalate_after_minutes = 15
        # Default: webhook.
        #escalation_webhook = "http://oncall.example/escalate"
        # Default: command.
        #escalation_command = "/usr/local/bin/page-manager"
        # Each attempt (a POST, a run of the command).
        #timeout_seconds = 10
        # Attempts after the first, waiting retry_backoff_seconds, then twice that, ...
        #retries = 3
        #retry_backoff_seconds = 2
        # Notifications waiting; past it they are dropped and counted.
        #queue = 256

        # Zones: one [[zone]] table each. Sensors in no zone are stored and shown as unmapped.
        #[[zone]]
        #id = "A"
        #facility = "North garage"
        # A list ("1-120, 200") or an array ([1, 2, 3]).
        #sensors = "1-120, 200"
        # Default: the number of sensors.
        #capacity = 121
        # Arrivals per day, for the efficiency figure.
        #daily_target = 400
        # This zone's tariff in cents per started hour (default: [sampler] hourly_rate_cents).
        #hourly_rate_cents = 250

        # Another daily target on one date: one [[target]] table each (reports, status).
        #[[target]]
        #zone = "A"
        # A quoted YYYY-MM-DD: the loader takes no TOML dates.
        #date = "2025-12-24"
        #daily_target = 600

        # Bay names: one [[bay]] table each (default name: ZONE-SENSOR).
        #[[bay]]
        #sensor = 200
        #name = "A-disabled-1"

        """
}
