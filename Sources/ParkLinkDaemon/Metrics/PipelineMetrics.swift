import CoreMetrics
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkSampler
import Prometheus
import Synchronization

/// The daemon's counters as Prometheus metrics, through swift-metrics with swift-prometheus
/// as its backend (a registry of our own, never the process-wide `MetricsSystem`).
///
/// Nothing is counted twice: the data path keeps its atomics as it always has, and each
/// scrape reads them through the same `StatusSnapshot` `parklink status` shows, then moves
/// the metrics by the difference since the last scrape. So a scrape costs the reader
/// nothing, and a metric and a `status` field never disagree about what they count. The
/// one cost that grows with traffic is the latency histogram: swift-prometheus takes one
/// observation per call, so each scrape replays the latencies committed since the last one
/// on the metrics thread, at most `replayBudget` of them: above that rate the histogram
/// trails `status` (its `_count` catches up at later scrapes) rather than a scrape taking long.
public final class PipelineMetrics: Sendable {
    public struct Input: Sendable {
        public var snapshot: StatusSnapshot
        public var latency: LatencyHistogram
        /// The wall time of the last commit, ms since the epoch (0: none yet).
        public var lastCommitAtMs: Int64
        public init(snapshot: StatusSnapshot, latency: LatencyHistogram, lastCommitAtMs: Int64) {
            self.snapshot = snapshot
            self.latency = latency
            self.lastCommitAtMs = lastCommitAtMs
        }
    }

    /// The frame→commit latency buckets, in seconds (Prometheus adds +Inf).
    public static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// The most latencies one scrape replays into the histogram (see above).
    public static let replayBudget = 100_000

    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let state = Mutex(State())

    /// What the last scrape exported, to move the counters by the difference.
    private struct State: Sendable {
        var exported: [String: Int] = [:]
        /// Latencies already replayed, per `LatencyHistogram` bucket.
        var replayed: [Int] = []
        var gauges: [String: CoreMetrics.Gauge] = [:]
        var counters: [String: CoreMetrics.Counter] = [:]
    }

    private let latency: CoreMetrics.Recorder

    public init() {
        var f = PrometheusMetricsFactory(registry: registry)
        f.valueHistogramBuckets = ["parklink_commit_latency_seconds": Self.latencyBuckets]
        factory = f
        latency = CoreMetrics.Recorder(label: "parklink_commit_latency_seconds", aggregate: true, factory: f)
    }

    /// The Prometheus text exposition of `input`: moves every metric to it, then renders.
    public func render(_ input: Input) -> [UInt8] {
        state.withLock { s in
            update(&s, input.snapshot, lastCommitAtMs: input.lastCommitAtMs)
            replayLatency(&s, input.latency)
        }
        return registry.emitToBuffer()
    }

    // MARK: - From the snapshot

    private func update(_ s: inout State, _ snap: StatusSnapshot, lastCommitAtMs: Int64) {
        let l = snap.link, st = snap.store, r = snap.ring
        func counter(_ name: String, _ value: Int, _ labels: [(String, String)] = []) {
            let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
            let c = s.counters[key] ?? {
                let c = CoreMetrics.Counter(label: name, dimensions: labels, factory: factory)
                s.counters[key] = c
                return c
            }()
            let last = s.exported[key]
            // A counter only goes up: a value below the last one (a gateway's own counter
            // restarting) starts a new base instead of subtracting.
            if let last, value >= last { c.increment(by: Int64(value - last)) } else if last == nil { c.increment(by: Int64(value)) }
            s.exported[key] = value
        }
        func gauge(_ name: String, _ value: Double, _ labels: [(String, String)] = []) {
            let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
            let g = s.gauges[key] ?? {
                let g = CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
                s.gauges[key] = g
                return g
            }()
            g.record(value)
        }

        gauge("parklink_up", 1)
        gauge("parklink_uptime_seconds", snap.uptime_seconds)
        gauge("parklink_last_run_stopped_cleanly", snap.last_run_stopped_cleanly ? 1 : 0)

        // The link
        gauge("parklink_link_connected", l.connected ? 1 : 0)
        counter("parklink_link_opens_total", l.opens)
        counter("parklink_link_open_failures_total", l.open_failures)
        counter("parklink_link_hangups_total", l.hangups)
        counter("parklink_link_bytes_total", l.bytes)
        counter("parklink_link_noise_bytes_total", l.noise_bytes)
        counter("parklink_frames_total", l.frames)
        for reason in RejectReason.allCases {
            counter("parklink_frames_rejected_total", l.rejects[reason.rawValue] ?? 0, [("reason", reason.rawValue)])
        }
        counter("parklink_readings_received_total", l.readings)
        counter("parklink_hellos_total", l.hellos)
        counter("parklink_heartbeats_total", l.heartbeats)
        // Gaps can be taken back (a gap found to be an appliance restart): gauges.
        gauge("parklink_link_gaps", Double(l.gaps))
        gauge("parklink_link_missing_readings", Double(l.missing_readings))
        gauge("parklink_appliance_restart_readings", Double(l.appliance_restart_readings))
        counter("parklink_unannounced_reboots_total", l.unannounced_reboots)
        counter("parklink_gateway_tx_dropped_total", l.gateway_tx_dropped)
        gauge("parklink_sessions", Double(l.sessions))
        gauge("parklink_readings_waiting_for_hello", Double(l.pending_no_session))
        counter("parklink_pings_sent_total", l.pings_sent)
        counter("parklink_commands_sent_total", l.commands_sent)
        counter("parklink_commands_dropped_total", l.commands_dropped ?? 0)

        // Readings given up, by the reason status names.
        let spool = snap.spool
        let dropped: [(String, Int)] = [
            ("no_session", l.dropped_no_session), ("session_limit", l.dropped_session_limit),
            ("spool_full", spool?.dropped_full ?? 0), ("spool_error", spool?.dropped_error ?? 0),
        ]
        for (reason, n) in dropped { counter("parklink_readings_dropped_total", n, [("reason", reason)]) }

        // The ring
        gauge("parklink_ring_fill_ratio", r.capacity > 0 ? Double(r.fill) / Double(r.capacity) : 0)
        gauge("parklink_ring_capacity", Double(r.capacity))
        gauge("parklink_ring_high_water", Double(r.high_water))
        counter("parklink_ring_reader_waits_total", r.reader_waits)
        gauge("parklink_readings_in_flight", Double(snap.accounting.in_flight))

        // The store
        gauge("parklink_store_connected", st.connected ? 1 : 0)
        counter("parklink_store_connects_total", st.connects)
        counter("parklink_readings_committed_total", st.rows_committed)
        counter("parklink_readings_duplicate_total", st.rows_duplicate)
        counter("parklink_batches_committed_total", st.batches)
        counter("parklink_store_retries_total", st.retries)
        // The node by its position in the DSN (the endpoint shows no address): 0 while not connected.
        gauge("parklink_store_node", Double(st.cluster?.node_position ?? (st.node == nil ? 0 : 1)))
        gauge("parklink_store_nodes", Double(st.cluster?.nodes.count ?? 1))
        counter("parklink_store_failovers_total", st.cluster?.failovers ?? 0)
        if lastCommitAtMs > 0 { gauge("parklink_last_commit_timestamp_seconds", Double(lastCommitAtMs) / 1_000) }

        // The spool
        gauge("parklink_spool_enabled", spool == nil ? 0 : 1)
        gauge("parklink_spool_active", spool?.active == true ? 1 : 0)
        gauge("parklink_spool_bytes", Double(spool?.bytes ?? 0))
        gauge("parklink_spool_readings", Double(spool?.readings ?? 0))
        gauge("parklink_spool_oldest_age_seconds", spool?.oldest_age_seconds ?? 0)
        counter("parklink_spool_appended_total", spool?.appended ?? 0)
        counter("parklink_spool_drained_total", spool?.drained ?? 0)

        samplerMetrics(snap.sampler ?? [:], gauge: gauge)
    }

    /// Alerts and zones, from the sampler's status sections (absent without a sampler).
    private func samplerMetrics(_ x: [String: JSONValue], gauge: (String, Double, [(String, String)]) -> Void) {
        if case .object(let alerts)? = x["alerts"], case .object(let by)? = alerts["open_by_severity"] {
            for severity in ["critical", "warning", "info"] {
                if case .number(let n)? = by[severity] { gauge("parklink_alerts_open", n, [("severity", severity)]) }
            }
        }
        if case .array(let zones)? = x["zones"] {
            for case .object(let z) in zones {
                guard case .string(let id)? = z["id"] else { continue }
                if case .number(let n)? = z["occupied"] { gauge("parklink_zone_occupied", n, [("zone", id)]) }
                if case .number(let n)? = z["capacity"] { gauge("parklink_zone_capacity", n, [("zone", id)]) }
            }
        }
        if case .object(let sm)? = x["sampler"], case .number(let ms)? = sm["duration_ms"] {
            gauge("parklink_sampler_duration_seconds", ms / 1_000, [])
        }
    }

    /// Records, into the Prometheus histogram, the latencies committed since the last scrape
    /// (at most `replayBudget`; the rest at the next).
    private func replayLatency(_ s: inout State, _ now: LatencyHistogram) {
        let counts = now.bucketCounts
        if s.replayed.count != counts.count { s.replayed = [Int](repeating: 0, count: counts.count) }
        var budget = Self.replayBudget
        for ms in counts.indices where counts[ms] > s.replayed[ms] && budget > 0 {
            let n = min(counts[ms] - s.replayed[ms], budget)
            let seconds = Double(ms) / 1_000
            for _ in 0..<n { latency.record(seconds) }
            s.replayed[ms] += n
            budget -= n
        }
    }
}
