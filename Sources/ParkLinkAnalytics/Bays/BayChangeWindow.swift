import ParkLinkProtocol

/// How often each bay changed state within a sliding window (a minute by default): the
/// input of SENSOR_FLAPPING.
///
/// Memory follows the changes, not the bays: a bay keeps its change times only while
/// some fall inside the window, and at most `cap` of them (enough to say "more than N";
/// a bay past the cap reports the cap).
public struct BayChangeWindow: Sendable {
    public let windowMs: Int64
    public let cap: Int
    private var times: [SensorKey: [Int64]] = [:]

    public init(windowMs: Int64 = 60_000, cap: Int = 1_000) {
        precondition(windowMs > 0 && cap > 0)
        self.windowMs = windowMs
        self.cap = cap
    }

    /// One change of `bay` at `atMs` (the reading's receive time).
    public mutating func record(_ bay: SensorKey, atMs: Int64) {
        var t = times.removeValue(forKey: bay) ?? []
        t.append(atMs)
        if t.count > cap { t.removeFirst(t.count - cap) }
        times[bay] = t
    }

    /// Changes per bay within the window ending at `nowMs` (bays with none are left out),
    /// forgetting what fell out of the window.
    public mutating func counts(nowMs: Int64) -> [SensorKey: Int] {
        let from = nowMs - windowMs
        var out: [SensorKey: Int] = [:]
        for (bay, t) in times {
            let kept = t.filter { $0 > from }
            if kept.isEmpty {
                times[bay] = nil
            } else {
                if kept.count != t.count { times[bay] = kept }
                out[bay] = kept.count
            }
        }
        return out
    }

    /// Bays with a change in the window.
    public var trackedBays: Int { times.count }
}
