import ParkLinkDaemon
import Foundation

/// The one-line progress bar `parklink stress` keeps on stderr while the gateway sends
/// (only on a terminal): how far the run is, what the database takes per second now,
/// and what is committed so far.
struct StressProgress {
    let durationSeconds: Double
    let width = 24
    private var lastCommitted = 0
    private var lastAt = 0.0

    init(durationSeconds: Double) {
        self.durationSeconds = durationSeconds
    }

    /// The line for `elapsed` seconds with `committed` rows committed so far (carriage
    /// return first, padded, so it overwrites the previous one).
    mutating func line(elapsed: Double, committed: Int, ringFillPercent: Double?, phase: String) -> String {
        let rate = elapsed > lastAt ? Double(committed - lastCommitted) / (elapsed - lastAt) : 0
        lastCommitted = committed
        lastAt = elapsed
        let done = min(max(elapsed / durationSeconds, 0), 1)
        let filled = Int((done * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        var s = "\r[\(bar)] \(String(format: "%5.1f", min(elapsed, durationSeconds)))/\(Int(durationSeconds)) s  "
        s += "\(StatusReport.n(Int(max(rate, 0)))) rows/s  committed \(StatusReport.n(committed))"
        if let f = ringFillPercent { s += "  ring \(String(format: "%.0f", f))%" }
        if !phase.isEmpty { s += "  \(phase)" }
        return s.padding(toLength: max(s.count, 100), withPad: " ", startingAt: 0)
    }

    /// Ends the bar's line so what follows starts on a fresh one.
    static let finish = "\n"
}
