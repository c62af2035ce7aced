import Foundation
import ParkLinkSampler

/// The human view of a `StatusSnapshot`: what a technician at a terminal needs first
/// (is the link up, is data reaching the database, is anything being lost), then detail.
public enum StatusReport {
    public static func render(_ s: StatusSnapshot) -> String {
        var out: [String] = []
        let l = s.link, r = s.ring, st = s.store, a = s.accounting
        out.append("parklink (pid \(s.pid), up \(duration(s.uptime_seconds)))")
        out.append("")
        out.append("LINK   \(l.connected ? "UP  " : "DOWN") \(l.device)  \(l.framing) \(l.baud) baud  session \(l.session ?? "none yet")")
        out.append("       \(n(l.readings)) readings in \(n(l.frames)) frames, \(bytes(l.bytes)); last byte \(l.last_byte_at ?? "never")")
        let rej = l.rejects.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \(n($0.value))" }
        out.append("       rejected \(n(l.rejects_total))\(rej.isEmpty ? "" : " (" + rej.joined(separator: ", ") + ")"), noise \(bytes(l.noise_bytes))")
        out.append("       gaps \(n(l.gaps)) (\(n(l.missing_readings)) readings missing), gateway tx_dropped \(n(l.gateway_tx_dropped)), unannounced reboots \(n(l.unannounced_reboots)), link drops \(n(l.hangups))")
        if l.pending_no_session > 0 || l.dropped_no_session > 0 {
            out.append("       waiting for HELLO \(n(l.pending_no_session)), dropped for want of one \(n(l.dropped_no_session))")
        }
        if !s.last_run_stopped_cleanly || l.appliance_restart_readings > 0 {
            out.append("       last run did not stop cleanly: \(n(l.appliance_restart_readings)) readings it held were lost (\(n(l.appliance_restart_gaps)) appliance_restart gaps)")
        }
        if l.sessions_refused > 0 || l.dropped_session_limit > 0 {
            out.append("       SESSION LIMIT \(n(l.sessions))/\(n(l.max_sessions)) sessions: \(n(l.sessions_refused)) refused, \(n(l.dropped_session_limit)) readings dropped")
        }
        out.append("RING   \(n(r.fill))/\(n(r.capacity)) (\(r.fill_percent)%), high-water \(n(r.high_water)), reader waits \(n(r.reader_waits)) (\(n(r.reader_wait_ms)) ms)")
        out.append("STORE  \(st.connected ? "UP  " : "DOWN") \(st.database) via \(st.method)")
        if let c = st.cluster { out += renderCluster(c, node: st.node) }
        out.append("       \(n(st.rows_committed)) rows committed in \(n(st.batches)) batches (last \(n(st.last_batch_rows)) rows at \(st.last_commit_at ?? "never")), duplicates \(n(st.rows_duplicate)), retries \(n(st.retries))")
        if let p50 = st.latency_ms.p50, let p99 = st.latency_ms.p99, let mx = st.latency_ms.max {
            out.append("       frame→commit latency p50 \(p50) ms, p99 \(p99) ms, max \(mx) ms")
        }
        out.append("       occupancy events \(n(st.occupancy_events))" + (st.occupancy_debounce_ms.map {
            ", debounce \(n($0)) ms: suppressed \(n(st.occupancy_events_suppressed)), held \(n(st.occupancy_events_held))"
        } ?? " (no debounce)"))
        if let e = st.last_error { out.append("       last error: \(e)") }
        out.append("SUMS   accepted \(n(a.readings_accepted)) = committed \(n(a.rows_committed)) + duplicate \(n(a.rows_duplicate)) + in flight \(n(a.in_flight)) + dropped \(n(a.dropped_no_session + a.dropped_session_limit + a.spool_dropped))  \(a.balanced ? "✓" : "(moving)")")
        if let extra = s.sampler, !extra.isEmpty { out += renderSampler(extra) }
        if let live = s.live { out.append(liveLine(live)) }
        return out.joined(separator: "\n")
    }

    /// LEDs, watch streams and notifications on one line.
    public static func liveLine(_ l: StatusSnapshot.Live) -> String {
        var line = "LIVE   LEDs \(n(l.leds_sent)) sent (\(n(l.leds_deduplicated)) already showing, \(n(l.leds_pending)) waiting, "
            + "queue dropped \(n(l.downlink_queue_dropped))), watchers \(n(l.watchers)) (dropped slow \(n(l.watchers_dropped_slow))), "
            + "overrides \(n(l.overrides_active))"
        if l.events_dropped > 0 { line += ", events dropped \(n(l.events_dropped))" }
        if let no = l.notify {
            line += "; notify \(n(no.sent)) sent, \(n(no.failed)) failed, \(n(no.pending)) pending, \(n(no.escalations)) escalations"
            if no.dropped > 0 { line += ", \(n(no.dropped)) dropped" }
        }
        return line
    }

    /// The writer's node, its failovers, and what each node said when last tried.
    public static func renderCluster(_ c: StatusSnapshot.Cluster, node: String?) -> [String] {
        var out = ["       node \(node.map { "\($0) (\(c.node_position ?? 0) of \(c.nodes.count))" } ?? "none"), failovers \(n(c.failovers))"]
        if let at = c.last_failover_at, let from = c.last_failover_from, let to = c.last_failover_to {
            out.append("       last failover \(at): \(from) → \(to) (\(c.last_failover_reason ?? "no reason recorded"))")
        }
        for node in c.nodes {
            let state = node.state?.replacingOccurrences(of: "_", with: " ") ?? "not tried"
            out.append("       · \(node.host) \(state)\(node.detail.map { ": \($0)" } ?? "")\(node.checked_at.map { " (\($0))" } ?? "")")
        }
        return out
    }

    /// The sampler's sections: garage and zones first (what a technician is asked
    /// about), then alerts, the least healthy sensors, and the sampler itself.
    public static func renderSampler(_ x: [String: JSONValue]) -> [String] {
        var out: [String] = []
        func v(_ o: [String: JSONValue]?, _ k: String) -> String { o?[k].map(render) ?? "-" }
        if case .object(let g)? = x["garage"] {
            let revenue = g["revenue_cents_today"].flatMap { if case .number(let d) = $0 { return String(format: "%.2f", d / 100) } else { return nil } } ?? "-"
            out.append("GARAGE \(v(g, "occupied"))/\(v(g, "total")) occupied, \(v(g, "available")) free; arrivals today \(v(g, "arrivals_today")), average stay \(v(g, "average_stay_minutes")) min, revenue today \(revenue)")
        }
        if case .array(let zones)? = x["zones"], !zones.isEmpty {
            out.append("ZONES  zone       occupied  free  capacity  arrivals  eff.%  this hour/last week  forecast 15/30/60 min")
            for case .object(let z) in zones {
                var fc = "-"
                if case .object(let f)? = z["forecast"] { fc = ["15", "30", "60"].map { f[$0].map(render) ?? "-" }.joined(separator: "/") }
                let cols = [v(z, "id").padding(toLength: 10, withPad: " ", startingAt: 0),
                            v(z, "occupied").padding(toLength: 9, withPad: " ", startingAt: 0),
                            v(z, "available").padding(toLength: 5, withPad: " ", startingAt: 0),
                            v(z, "capacity").padding(toLength: 9, withPad: " ", startingAt: 0),
                            v(z, "arrivals_today").padding(toLength: 9, withPad: " ", startingAt: 0),
                            v(z, "efficiency_percent").padding(toLength: 6, withPad: " ", startingAt: 0),
                            (v(z, "arrivals_this_hour") + "/" + v(z, "arrivals_same_hour_last_week")).padding(toLength: 20, withPad: " ", startingAt: 0),
                            fc]
                out.append("       " + cols.joined(separator: " "))
            }
        }
        if case .object(let a)? = x["alerts"] {
            var counts = "-"
            if case .object(let c)? = a["open_by_severity"] {
                counts = ["critical", "warning", "info"].map { "\($0) \(c[$0].map(render) ?? "0")" }.joined(separator: ", ")
            }
            out.append("ALERTS open: \(counts)")
            if case .array(let open)? = a["open"] {
                for case .object(let o) in open {
                    out.append("       #\(v(o, "id")) \(v(o, "severity")) \(v(o, "type")) \(v(o, "subject")) since \(v(o, "created_at"))\(o["acknowledged"] == .bool(true) ? " (acknowledged)" : "")")
                }
            }
        }
        if case .array(let least)? = x["least_healthy"], !least.isEmpty {
            let items = least.compactMap { item -> String? in
                guard case .object(let o) = item else { return nil }
                return "\(v(o, "sensor")) \(v(o, "score"))"
            }
            out.append("HEALTH least healthy: " + items.joined(separator: ", "))
        }
        if case .object(let sm)? = x["sampler"], case .number(let unmapped)? = sm["unmapped_sensors"], unmapped > 0 {
            out.append("       \(Int(unmapped)) sensors are in no configured zone: each counts in a zone named after its gateway. "
                + "Map them with [[zone]] tables in the config file (`parklink config init` writes a sample from the sensors seen).")
        }
        if case .array(let overrides)? = x["overrides"], !overrides.isEmpty {
            out.append("OVERRIDES \(overrides.count) in force")
            for case .object(let o) in overrides {
                let until = o["expires_at"].flatMap { $0 == .null ? nil : "until \(render($0))" } ?? "until set back"
                out.append("       #\(v(o, "id")) \(v(o, "sensor")) \(v(o, "state")) by \(v(o, "set_by")) since \(v(o, "set_at")), \(until)"
                           + (o["reason"].flatMap { $0 == .null ? nil : ": \(render($0))" } ?? ""))
            }
        }
        if case .object(let sm)? = x["sampler"] {
            out.append("SAMPLER last run \(v(sm, "last_run_at")) took \(v(sm, "duration_ms")) ms (run \(v(sm, "runs"))), \(v(sm, "sensors")) sensors (\(v(sm, "unmapped_sensors")) unmapped), database \(v(sm, "database"))")
        }
        return out
    }

    static func render(_ v: JSONValue) -> String {
        switch v {
        case .null: "-"
        case .bool(let b): b ? "yes" : "no"
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(format: "%.2f", d)
        case .string(let s): s
        case .array(let a): a.map(render).joined(separator: "\n       ")
        case .object(let o): o.sorted { $0.key < $1.key }.map { "\($0.key) \(render($0.value))" }.joined(separator: ", ")
        }
    }

    public static func n(_ v: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.groupingSeparator = ","
        return f.string(from: NSNumber(value: v)) ?? String(v)
    }

    public static func bytes(_ v: Int) -> String {
        v >= 1 << 20 ? String(format: "%.1f MiB", Double(v) / 1048576) : v >= 1024 ? String(format: "%.1f KiB", Double(v) / 1024) : "\(v) B"
    }

    public static func duration(_ s: Double) -> String {
        let t = Int(s)
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : String(format: "%.1fs", s)
    }
}
