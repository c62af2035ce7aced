import Foundation

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
        out.append("RING   \(n(r.fill))/\(n(r.capacity)) (\(r.fill_percent)%), high-water \(n(r.high_water)), reader waits \(n(r.reader_waits)) (\(n(r.reader_wait_ms)) ms)")
        out.append("STORE  \(st.connected ? "UP  " : "DOWN") \(st.database) via \(st.method)")
        out.append("       \(n(st.rows_committed)) rows committed in \(n(st.batches)) batches (last \(n(st.last_batch_rows)) rows at \(st.last_commit_at ?? "never")), duplicates \(n(st.rows_duplicate)), retries \(n(st.retries))")
        if let p50 = st.latency_ms.p50, let p99 = st.latency_ms.p99, let mx = st.latency_ms.max {
            out.append("       frame→commit latency p50 \(p50) ms, p99 \(p99) ms, max \(mx) ms")
        }
        if let e = st.last_error { out.append("       last error: \(e)") }
        out.append("SUMS   accepted \(n(a.readings_accepted)) = committed \(n(a.rows_committed)) + duplicate \(n(a.rows_duplicate)) + in flight \(n(a.in_flight)) + dropped \(n(a.dropped_no_session))  \(a.balanced ? "✓" : "(moving)")")
        if let extra = s.sampler, !extra.isEmpty {
            for (key, value) in extra.sorted(by: { $0.key < $1.key }) {
                out.append("\(key.uppercased().padding(toLength: 6, withPad: " ", startingAt: 0)) \(render(value))")
            }
        }
        return out.joined(separator: "\n")
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

    static func n(_ v: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.groupingSeparator = ","
        return f.string(from: NSNumber(value: v)) ?? String(v)
    }

    static func bytes(_ v: Int) -> String {
        v >= 1 << 20 ? String(format: "%.1f MiB", Double(v) / 1048576) : v >= 1024 ? String(format: "%.1f KiB", Double(v) / 1024) : "\(v) B"
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s)
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : String(format: "%.1fs", s)
    }
}
