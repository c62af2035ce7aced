import Foundation
import ParkLinkDaemon
import ParkLinkProtocol

/// The human view of a `StoredStatusSnapshot`: first that the daemon is down and how old
/// the picture is, then the same garage, zones, alerts and health lines as the live view.
public enum StoredStatusReport {
    public static func render(_ s: StoredStatusSnapshot) -> String {
        var out: [String] = []
        if let st = s.stored {
            out.append("parklink is NOT running (\(st.reason)).")
            let age = st.age_seconds.map { " (\(StatusReport.duration($0)) ago)" } ?? ""
            out.append("Last stored state, from \(st.database), as of \(st.as_of ?? "never")\(age):")
            out.append("")
            for g in st.gateways {
                let gAge = g.age_seconds.map { ", \(StatusReport.duration($0)) ago" } ?? ""
                out.append("GATEWAY \(g.gateway_id): last reading \(g.last_reading_at ?? "none stored")\(gAge); \(StatusReport.n(g.sensors)) sensors")
            }
            if st.gateways.isEmpty { out.append("GATEWAY none has stored a reading yet") }
        }
        if s.last_run_stopped_cleanly == false {
            out.append("       the last run did not stop cleanly (STATE/running was left behind): the next start accounts for what it lost")
        }
        if let sections = s.sampler { out += StatusReport.renderSampler(sections) }
        return out.joined(separator: "\n")
    }
}
