import Foundation
import ParkLinkSampler

/// What `parklink status` shows: the daemon's counters at one instant, as JSON.
///
/// Field names are the JSON keys (snake_case) and are a contract for scripts: add
/// fields, do not rename them. A key with no value is `null`, never missing: mark every
/// optional `@ExplicitNull`.
public struct StatusSnapshot: Codable, Sendable, Equatable {
    public struct Link: Codable, Sendable, Equatable {
        public var device: String
        public var framing: String
        public var baud: UInt32
        public var connected: Bool
        @ExplicitNull public var session: String?
        public var opens: Int
        public var open_failures: Int
        public var hangups: Int
        public var bytes: Int
        public var frames: Int
        public var readings: Int
        public var hellos: Int
        public var heartbeats: Int
        public var noise_bytes: Int
        public var rejects: [String: Int]
        public var rejects_total: Int
        /// Link gaps and the readings they miss (lost between the gateway and the appliance).
        public var gaps: Int
        public var missing_readings: Int
        /// Gaps, and their readings, that the last run received and lost when it was killed
        /// (`link_gaps.reason = 'appliance_restart'`); not in `gaps`/`missing_readings`.
        public var appliance_restart_gaps: Int
        public var appliance_restart_readings: Int
        public var unannounced_reboots: Int
        public var pending_no_session: Int
        public var dropped_no_session: Int
        /// Sessions (gateway, boot) this run knows, and the most it keeps (`[link] max_sessions`).
        public var sessions: Int
        public var max_sessions: Int
        /// Sessions refused at `max_sessions`, and their readings, dropped and counted.
        public var sessions_refused: Int
        public var dropped_session_limit: Int
        public var gateway_tx_dropped: Int
        public var pings_sent: Int
        public var commands_sent: Int
        @ExplicitNull public var commands_dropped: Int?
        @ExplicitNull public var last_byte_at: String?
    }

    public struct Ring: Codable, Sendable, Equatable {
        public var capacity: Int
        public var fill: Int
        public var fill_percent: Double
        public var high_water: Int
        public var pushed: Int
        public var popped: Int
        public var reader_waits: Int
        public var reader_wait_ms: Int
    }

    public struct Latency: Codable, Sendable, Equatable {
        @ExplicitNull public var p50: Int64?
        @ExplicitNull public var p99: Int64?
        @ExplicitNull public var max: Int64?
        public var samples: Int
    }

    public struct Store: Codable, Sendable, Equatable {
        public var database: String
        public var method: String
        public var connected: Bool
        public var connects: Int
        public var rows_committed: Int
        public var rows_duplicate: Int
        public var batches: Int
        public var last_batch_rows: Int
        @ExplicitNull public var last_commit_at: String?
        public var retries: Int
        public var in_flight: Int
        @ExplicitNull public var last_error: String?
        public var latency_ms: Latency
        /// Arrivals and departures committed this run; the debounce (`null` when off), the
        /// changes it suppressed (two per flap) and those it holds now.
        public var occupancy_events: Int
        @ExplicitNull public var occupancy_debounce_ms: Int?
        public var occupancy_events_suppressed: Int
        public var occupancy_events_held: Int
        /// The node the writer is connected to (`host:port`, or the socket path); null while
        /// it is not connected.
        @ExplicitNull public var node: String? = nil
        /// The nodes of a DSN with several hosts and the writer's failovers; null for a
        /// single server.
        @ExplicitNull public var cluster: Cluster? = nil
    }

    /// The on-disk spool: readings the ring could not hold while the database was away.
    public struct Spool: Codable, Sendable, Equatable {
        public var directory: String
        /// Readings go to the spool now (until the writer has drained it).
        public var active: Bool
        public var bytes: Int64
        public var readings: Int
        @ExplicitNull public var oldest_age_seconds: Double?
        public var drain_per_second: Double
        public var appended: Int
        public var drained: Int
        /// Readings refused at the size cap (or a full disk): lost, and counted.
        public var dropped_full: Int
        /// Readings that could not be written for another I/O error: lost, and counted.
        public var dropped_error: Int
        /// Left by an earlier run, found at start.
        public var recovered_readings: Int
        /// Cut at start: records torn by a crash or corrupt.
        public var torn_bytes: Int64
        public var max_bytes: Int64
        @ExplicitNull public var last_error: String?
    }

    /// The sums a technician (and the stress harness) checks: every accepted reading is
    /// committed, a duplicate, still on its way, or dropped for a named reason. The
    /// counters are read one after another, not under one lock, so while readings flow
    /// `balanced` may be off by the chunk being handed over; at rest it is exact.
    public struct Accounting: Codable, Sendable, Equatable {
        public var readings_accepted: Int
        public var rows_committed: Int
        public var rows_duplicate: Int
        public var in_flight: Int
        public var dropped_no_session: Int
        /// Readings of sessions refused at the session limit.
        public var dropped_session_limit: Int
        /// Readings an earlier run spooled, committed by this one (they add to the readings side).
        public var spool_recovered: Int
        /// Readings the spool could not keep (cap, I/O error).
        public var spool_dropped: Int
        public var balanced: Bool
    }

    public var version = 1
    public var pid: Int32
    public var started_at: String
    public var uptime_seconds: Double
    /// False when the last run left its marker behind: it was killed (or lost power, or
    /// crashed) and what it held in memory shows as `link.appliance_restart_readings`.
    public var last_run_stopped_cleanly: Bool
    public var link: Link
    public var ring: Ring
    public var store: Store
    /// Nil when the spool is disabled.
    @ExplicitNull public var spool: Spool?
    public var accounting: Accounting
    /// Sections added by later stages (sampler, alerts, zones), kept opaque here.
    @ExplicitNull public var sampler: [String: JSONValue]?
    /// LEDs, watch streams, overrides and notifications (nil: a daemon without them).
    @ExplicitNull public var live: Live? = nil

    /// The live side: what the LEDs were sent, who watches, what was dropped and why.
    public struct Live: Codable, Sendable, Equatable {
        /// LED commands queued for the gateway (each a colour that differed from the last sent).
        public var leds_sent = 0
        /// Colours wanted that the LED already showed, so not sent again.
        public var leds_deduplicated = 0
        /// Bays whose LED waits for room in the downlink queue (or for the link).
        public var leds_pending = 0
        /// Downlink commands refused because the queue (`downlink_queue_capacity`) was full.
        public var downlink_queue_dropped = 0
        public var downlink_queue_capacity = 0
        /// Bay changes (arrivals, departures) the writer committed and handed on.
        public var bay_changes = 0
        /// Inputs of the live thread dropped because its inbox was full (bay changes, alerts, overrides).
        public var events_dropped = 0
        /// Open `watch` streams, and those dropped for reading too slowly.
        public var watchers = 0
        public var watchers_dropped_slow = 0
        public var watch_lines_sent = 0
        public var overrides_active = 0
        /// Notifications (nil: `[notify]` not configured).
        @ExplicitNull public var notify: Notify? = nil

        public init() {}
    }

    /// The notifier: alert actions (`[notify]`).
    public struct Notify: Codable, Sendable, Equatable {
        public var sent = 0
        /// Deliveries given up after every retry.
        public var failed = 0
        public var retries = 0
        /// Notifications dropped because the notifier's queue was full.
        public var dropped = 0
        public var pending = 0
        public var escalations = 0
        @ExplicitNull public var last_error: String? = nil
        @ExplicitNull public var last_sent_at: String? = nil

        public init() {}
    }

    /// Null when the daemon answered; what the database holds when it did not (`parklink
    /// status` with the daemon down prints the same keys, those only a daemon knows null).
    @ExplicitNull public var stored: Stored? = nil

    /// What `parklink status --json` prints: every key present, `null` when it has no value.
    public func json(pretty: Bool = false) throws -> String {
        try StatusProtocol.json(self, pretty: pretty)
    }
}
