import ParkLinkDaemon
import Foundation

/// What a stress run found, for people (`render`) and for scripts (`json`, one line).
///
/// Property names are the JSON keys (snake_case, as in `StatusSnapshot`) and are a
/// contract: add keys, do not rename them. Every key is always present; a figure that
/// could not be had is `null`.
public struct StressReport: Encodable, Sendable {
    /// Emitted readings that were not stored, by why. They sum to `lost`.
    public struct LostByReason: Encodable, Sendable {
        /// Produced by a sensor but dropped by the gateway before it got a seq: its
        /// transmit buffer was full (the host did not keep up) or the link was down.
        public var gateway_tx_dropped: Int
        /// Sent with a bad CRC on purpose (`--fault noise`) and rightly rejected.
        public var bad_crc: Int
        /// Skipped on the wire (a seq gap the gateway made on purpose).
        public var link_gap: Int
        /// Given a seq but thrown away inside the gateway before it was read (its queue at
        /// an unplug or at the end, when the host did not read it in time).
        public var gateway_discarded: Int
        /// Sent intact and not stored: a real loss.
        public var other: Int
    }

    /// The daemon's own view (its final status) and what it cost.
    public struct Daemon: Encodable, Sendable {
        public var exit_code: Int32
        public var cpu_seconds: Double
        public var peak_rss_mib: Double
        public var log_lines: Int
        public var readings_accepted: Int
        public var rows_committed: Int
        public var rows_duplicate: Int
        public var accounting_balanced: Bool
        public var store_connects: Int
        /// Failed batch attempts, each retried.
        public var store_retries: Int
        public var store_last_error: String?
        public var link_opens: Int
        public var link_hangups: Int
        public var link_gaps: Int
        public var link_missing_readings: Int
        public var rejects: [String: Int]
        public var gateway_tx_dropped_reported: Int
        public var ring_capacity: Int
        public var ring_high_water: Int
        public var reader_waits: Int
        public var reader_wait_ms: Int
    }

    public var passed: Bool
    public var failures: [String]
    public var sensors: Int
    public var rate_per_sensor: Double
    public var duration_s: Double
    public var framing: String
    public var fault: String
    public var gateway_id: String
    /// Every reading the sensors produced: sent (intact or corrupted), skipped on the
    /// wire, thrown away in the gateway, or `tx_dropped` (never given a seq).
    public var emitted: Int
    /// Found in the database, each exactly once.
    public var stored: Int
    /// `emitted − stored`.
    public var lost: Int
    public var lost_by_reason: LostByReason
    /// The readings the host had to store (sent intact, not thrown away in the gateway).
    public var must_arrive: Int
    /// `stored ÷ duration_s` (the gateway's sending time).
    public var readings_per_second: Double
    public var latency_ms_p50: OrNull<Int64>
    public var latency_ms_p99: OrNull<Int64>
    public var latency_ms_max: OrNull<Int64>
    public var latency_samples: Int
    /// The daemon's user + system CPU seconds, and its peak resident memory.
    public var cpu_seconds: Double
    public var peak_rss_mib: Double
    public var daemon_exit_code: Int32
    /// This process (the simulated gateway's thread and the harness), for comparison.
    public var harness_cpu_seconds: Double
    /// The MariaDB server's CPU seconds from the first reading to the end of the run (from
    /// /proc): the private server, or a `--db` server on this machine; null for a remote one.
    public var mariadb_cpu_seconds: OrNull<Double>
    /// The daemon's and the server's CPU seconds per million readings stored (null when
    /// nothing was stored, or the server's CPU is unknown).
    public var cpu_seconds_per_million_readings: OrNull<Double>
    public var mariadb_cpu_seconds_per_million_readings: OrNull<Double>
    public var boots: Int
    public var corrupted_sent: Int
    public var garbage_bursts: Int
    public var unexpected_rows: Int
    public var unknown_boot_rows: Int
    public var duplicate_rows: Int
    public var missing_examples: [String]
    public var fault_events: [FaultEvent]
    /// Unplug fault: replugs seen, and how long the daemon took to open each new port and
    /// speak on it (from the port appearing to its PING), ms.
    public var replugs: Int
    public var reopen_ms_p50: OrNull<Double>
    public var reopen_ms_max: OrNull<Double>
    /// When the gateway's `tx_dropped` grew (seconds since sending began, readings).
    public var tx_dropped_timeline: [TimelinePoint]
    public var daemon: Daemon
    /// The machine's share in any loss: the load average, and for the threads that carry
    /// the readings (the daemon's reader and writer, the gateway's thread) their CPU
    /// time, their total and longest wait for a CPU, and every wait of 50 ms or more.
    public var load_average_start: OrNull<Double>
    public var load_average_end: OrNull<Double>
    public var threads: [String: ThreadTimes]
    public var longest_cpu_wait_ms: [String: Double]
    public var cpu_stalls: [CPUStall]

    public struct CPUStall: Encodable, Sendable {
        public var at_s: Double
        public var thread: String
        public var ms: Double
    }

    public struct TimelinePoint: Encodable, Sendable {
        public var at_s: Double
        public var readings: Int
    }

    public struct FaultEvent: Encodable, Sendable {
        public var at_s: Double
        public var what: String
    }

    public func json() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The human report.
    public func render() -> String {
        let l = lost_by_reason, d = daemon
        var out: [String] = []
        out.append("parklink stress: \(n(sensors)) sensors × \(fmt(rate_per_sensor)) Hz = \(n(Int(Double(sensors) * rate_per_sensor))) readings/s, \(framing) framing, fault \(fault), \(fmt(duration_s)) s (gateway \(gateway_id))")
        out.append("  emitted   \(n(emitted)) readings (incl. \(n(l.gateway_tx_dropped)) the gateway dropped before giving them a seq)")
        out.append("  stored    \(n(stored)), checked seq by seq in the database (duplicates \(n(duplicate_rows)), rows that must not exist \(n(unexpected_rows)), rows of unknown boots \(n(unknown_boot_rows)))")
        out.append("  lost      \(n(lost)): gateway tx_dropped \(n(l.gateway_tx_dropped)), bad CRC \(n(l.bad_crc)), link gap \(n(l.link_gap)), discarded in the gateway \(n(l.gateway_discarded)), other \(n(l.other))")
        if !missing_examples.isEmpty { out.append("            first missing (boot/seq): \(missing_examples.joined(separator: ", "))") }
        out.append("  rate      \(n(Int(readings_per_second.rounded()))) readings/s stored over \(fmt(duration_s)) s of sending")
        if let p50 = latency_ms_p50.value, let p99 = latency_ms_p99.value, let mx = latency_ms_max.value {
            out.append("  latency   frame→commit p50 \(p50) ms, p99 \(p99) ms, max \(mx) ms (\(n(latency_samples)) readings)")
        }
        out.append("  daemon    exit \(d.exit_code), CPU \(String(format: "%.1f", cpu_seconds)) s (\(String(format: "%.0f", cpu_seconds / max(duration_s, 1) * 100))% of a core over the run), peak RSS \(String(format: "%.1f", peak_rss_mib)) MiB, \(d.log_lines) log lines at warning+")
        if replugs > 0, let p50 = reopen_ms_p50.value, let mx = reopen_ms_max.value {
            out.append("  replug    \(replugs) replugs: the daemon reopened the port in \(String(format: "%.0f", p50)) ms (median), \(String(format: "%.0f", mx)) ms at most")
        }
        out.append("  others    harness + simulator CPU \(String(format: "%.1f", harness_cpu_seconds)) s" + (mariadb_cpu_seconds.value.map { String(format: ", MariaDB CPU %.1f s", $0) } ?? ", MariaDB CPU unknown (not on this machine)"))
        let perMillion = [cpu_seconds_per_million_readings.value.map { String(format: "daemon %.2f s", $0) },
                          mariadb_cpu_seconds_per_million_readings.value.map { String(format: "MariaDB %.2f s", $0) }].compactMap { $0 }
        if !perMillion.isEmpty { out.append("  cost      CPU per million readings: \(perMillion.joined(separator: ", "))") }
        out.append("  pipeline  ring high-water \(n(d.ring_high_water))/\(n(d.ring_capacity)), reader waits \(n(d.reader_waits)) (\(n(d.reader_wait_ms)) ms), store connects \(n(d.store_connects)), retries \(n(d.store_retries)), link opens \(n(d.link_opens)), hang-ups \(n(d.link_hangups))")
        let rej = d.rejects.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \(n($0.value))" }
        out.append("  link      gaps \(n(d.link_gaps)) (\(n(d.link_missing_readings)) missing), rejects \(rej.isEmpty ? "none" : rej.joined(separator: ", ")), gateway tx_dropped reported \(n(d.gateway_tx_dropped_reported)), corrupted sent \(n(corrupted_sent)), noise bursts \(n(garbage_bursts))")
        if !tx_dropped_timeline.isEmpty {
            let shown = tx_dropped_timeline.prefix(8).map { "t=\(fmt($0.at_s)) s +\(n($0.readings))" }
            out.append("  drops     gateway tx_dropped grew at \(shown.joined(separator: ", "))\(tx_dropped_timeline.count > 8 ? " …" : "")")
        }
        let load = [load_average_start.value, load_average_end.value].map { $0.map { String(format: "%.1f", $0) } ?? "?" }
        let longest = longest_cpu_wait_ms.sorted { $0.key < $1.key }.map { "\($0.key) \(fmt($0.value)) ms" }
        out.append("  machine   load average \(load[0]) → \(load[1]) on \(ProcessInfo.processInfo.activeProcessorCount) CPUs; longest wait for a CPU: \(longest.isEmpty ? "not measured" : longest.joined(separator: ", "))")
        if !threads.isEmpty {
            let t = threads.sorted { $0.key < $1.key }.map { "\($0.key) CPU \(fmt($0.value.cpu_s)) s, waited \(fmt($0.value.runqueue_wait_s)) s" }
            out.append("  threads   " + t.joined(separator: "; "))
        }
        if !cpu_stalls.isEmpty {
            let shown = cpu_stalls.prefix(8).map { "t=\(fmt($0.at_s)) s \($0.thread) \(fmt($0.ms)) ms" }
            out.append("  stalls    waits ≥ 50 ms for a CPU: \(shown.joined(separator: ", "))\(cpu_stalls.count > 8 ? " … (\(cpu_stalls.count))" : "")")
        }
        if let e = d.store_last_error { out.append("  last store error: \(e)") }
        if fault_events.isEmpty {
            out.append("  fault     \(fault)")
        } else {
            for (i, e) in fault_events.enumerated() {
                out.append("  \(i == 0 ? "fault    " : "         ") t=\(fmt(e.at_s)) s: \(e.what)")
            }
        }
        out.append(passed ? "  RESULT    PASS" : "  RESULT    FAIL: " + failures.joined(separator: "; "))
        return out.joined(separator: "\n")
    }

    private func n(_ v: Int) -> String { StatusReport.n(v) }
    private func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: v < 1 ? "%.2f" : "%.1f", v) }
}

/// An optional that encodes as JSON `null` instead of disappearing, so a report's keys
/// are always there.
public struct OrNull<Value: Encodable & Sendable>: Encodable, Sendable {
    public var value: Value?
    public init(_ value: Value?) { self.value = value }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}
