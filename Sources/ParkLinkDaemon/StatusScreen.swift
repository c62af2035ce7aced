import Foundation
import ParkLinkSampler

/// `parklink status --watch` on a terminal: the snapshot laid out to fit the screen (80
/// columns over SSH, wider when the terminal is), redrawn in place. What does not fit is
/// cut with `…` here; `parklink status` (or `--json`) has all of it.
public enum StatusScreen {
    /// The screen for `s`: at most `rows` lines of at most `columns` characters.
    public static func render(_ s: StatusSnapshot, columns: Int = 80, rows: Int = 24, everySeconds: Double, nowMs: Int64) -> String {
        let n = StatusReport.n
        let l = s.link, st = s.store, a = s.accounting
        var out: [String] = []
        let every = everySeconds == everySeconds.rounded() ? String(Int(everySeconds)) : String(everySeconds)
        out.append("parklink pid \(s.pid), up \(StatusReport.duration(s.uptime_seconds))  ·  every \(every) s  ·  "
                   + "\(TimeText.local(nowMs).suffix(8))  ·  Ctrl-C stops")
        out.append("LINK   \(l.connected ? "UP  " : "DOWN") \(l.device) \(l.framing) \(l.baud)  session \(l.session ?? "none yet")")
        out.append("       \(n(l.readings)) readings, rejected \(n(l.rejects_total)), gaps \(n(l.gaps)) (\(n(l.missing_readings)) missing), "
                   + "tx_dropped \(n(l.gateway_tx_dropped))")
        out.append("RING   \(n(s.ring.fill))/\(n(s.ring.capacity)) (\(s.ring.fill_percent)%), reader waits \(n(s.ring.reader_waits))")
        var store = "STORE  \(st.connected ? "UP  " : "DOWN") \(n(st.rows_committed)) committed, dup \(n(st.rows_duplicate)), retries \(n(st.retries))"
        if let p99 = st.latency_ms.p99 { store += ", p99 \(p99) ms" }
        out.append(store)
        if let e = st.last_error { out.append("       last error: \(e)") }
        if let sp = s.spool, sp.active || sp.readings > 0 {
            out.append("SPOOL  \(n(sp.readings)) readings, \(StatusReport.bytes(Int(sp.bytes))), dropped \(n(sp.dropped_full + sp.dropped_error))")
        }
        out.append("SUMS   \(a.balanced ? "balanced" : "moving"): accepted \(n(a.readings_accepted)), in flight \(n(a.in_flight)), "
                   + "dropped \(n(a.dropped_no_session + a.dropped_session_limit + a.spool_dropped))")
        if let x = s.sampler { out += sampler(x, columns: columns) }
        if let l = s.live {
            var line = "LIVE   LEDs \(n(l.leds_sent)) sent, \(n(l.leds_pending)) waiting · watchers \(n(l.watchers)) · overrides \(n(l.overrides_active))"
            if let no = l.notify { line += " · notify \(n(no.sent)) sent, \(n(no.failed)) failed" }
            out.append(line)
        }
        return fit(out, columns: columns, rows: rows).joined(separator: "\n")
    }

    private static func sampler(_ x: [String: JSONValue], columns: Int) -> [String] {
        var out: [String] = []
        func v(_ o: [String: JSONValue]?, _ k: String) -> String { o?[k].map(StatusReport.render) ?? "-" }
        if case .object(let g)? = x["garage"] {
            out.append("GARAGE \(v(g, "occupied"))/\(v(g, "total")) occupied, \(v(g, "available")) free, arrivals today \(v(g, "arrivals_today")), "
                       + "stay \(v(g, "average_stay_minutes")) min")
        }
        if case .array(let zones)? = x["zones"], !zones.isEmpty {
            out.append(pad("ZONE", 13) + pad("OCC/CAP", 11) + pad("FREE", 6) + pad("ARRIVALS", 11) + pad("EFF%", 6) + "FORECAST 15/30/60")
            for case .object(let z) in zones {
                var fc = "-"
                if case .object(let f)? = z["forecast"] { fc = ["15", "30", "60"].map { f[$0].map(StatusReport.render) ?? "-" }.joined(separator: "/") }
                out.append(pad(v(z, "id"), 13) + pad(v(z, "occupied") + "/" + v(z, "capacity"), 11) + pad(v(z, "available"), 6)
                           + pad(v(z, "arrivals_today"), 11) + pad(v(z, "efficiency_percent"), 6) + fc)
            }
        }
        if case .object(let al)? = x["alerts"] {
            var counts = "-"
            if case .object(let c)? = al["open_by_severity"] {
                counts = ["critical", "warning", "info"].map { "\($0) \(c[$0].map(StatusReport.render) ?? "0")" }.joined(separator: ", ")
            }
            out.append("ALERTS \(counts)")
            if case .array(let open)? = al["open"] {
                for case .object(let o) in open {
                    out.append("  #\(v(o, "id")) \(v(o, "severity")) \(v(o, "type")) \(v(o, "subject"))\(o["acknowledged"] == .bool(true) ? " (ack)" : "")")
                }
            }
        }
        if case .array(let overrides)? = x["overrides"], !overrides.isEmpty {
            out.append("OVERRIDES \(overrides.count)")
            for case .object(let o) in overrides {
                out.append("  #\(v(o, "id")) \(v(o, "sensor")) \(v(o, "state")) by \(v(o, "set_by"))"
                           + (o["expires_at"] == .null ? "" : " until \(v(o, "expires_at"))"))
            }
        }
        return out
    }

    private static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? String(s.prefix(n - 1)) + " " : s + String(repeating: " ", count: n - s.count)
    }

    /// Cuts lines at `columns` and the list at `rows`, saying what was left out.
    static func fit(_ lines: [String], columns: Int, rows: Int) -> [String] {
        let width = max(20, columns)
        var out = lines.map { $0.count > width ? String($0.prefix(width - 1)) + "…" : $0 }
        let height = max(3, rows - 1)
        if out.count > height {
            let hidden = out.count - (height - 1)
            out = Array(out.prefix(height - 1)) + ["… \(hidden) more lines: a taller terminal, or `parklink status`"]
        }
        return out
    }
}
