/// "The reading about h minutes ahead": the reading nearest to t + h within the
/// tolerance and strictly after t; on a tie, the earlier one. Same rule as ParkPulse's
/// `merge_asof(direction="nearest", tolerance=10 min)` plus its later-than-origin guard.
enum TargetMatching {
    /// Index into `times` (sorted ascending) of the reading nearest to `time`, within
    /// `tolerance` and strictly after `after`, if any.
    static func nearest(in times: [Int64], to time: Int64, tolerance: Int64, after: Int64) -> Int? {
        var lo = 0
        var hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] < time { lo = mid + 1 } else { hi = mid }
        }
        var best: Int?
        var bestDistance = Int64.max
        for i in [lo - 1, lo] where i >= 0 && i < times.count && times[i] > after {
            let distance = abs(times[i] - time)
            if distance <= tolerance && distance < bestDistance {
                best = i
                bestDistance = distance
            }
        }
        return best
    }

    static func target(in times: [Int64], origin i: Int, horizon: Int64, tolerance: Int64) -> Int? {
        nearest(in: times, to: times[i] + horizon, tolerance: tolerance, after: times[i])
    }
}
