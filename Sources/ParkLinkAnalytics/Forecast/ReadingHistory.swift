/// The readings of the last week or so, one per slot in a fixed ring, for questions like
/// "what did this zone do between 09:00 and 09:30 a week ago?".
///
/// A profile averages many weeks; the raw change of the same hours a week ago (and on
/// the previous day of the same type) also carries what the latest weeks did, which an
/// average dilutes: the run-up to Christmas in the Birmingham data, for one. Each slot
/// keeps the newest reading that fell into it, so memory is fixed whatever the feed
/// rate, and a lookup checks at most a few slots: O(1).
struct ReadingHistory: Codable, Sendable, Equatable {
    let slotSeconds: Double
    private var times: [Double]
    private var values: [Double]

    /// Time of an empty slot: far from any real time, so no lookup matches it (and, unlike
    /// −∞ or NaN, JSON can hold it).
    private static let empty = -1e18

    /// `span`: how far back readings must stay available.
    init(span: Double, slotSeconds: Double) {
        precondition(span > 0 && slotSeconds > 0)
        self.slotSeconds = slotSeconds
        let count = Int((span / slotSeconds).rounded(.up)) + 1
        times = Array(repeating: Self.empty, count: count)
        values = Array(repeating: 0, count: count)
    }

    private func slot(_ t: Double) -> Int { slot(number: Int((t / slotSeconds).rounded(.down))) }

    private func slot(number n: Int) -> Int {
        let i = n % times.count
        return i < 0 ? i + times.count : i
    }

    mutating func record(_ value: Double, at t: Double) {
        let i = slot(t)
        times[i] = t
        values[i] = value
    }

    /// The reading nearest to `t` within `tolerance`, if the ring still holds one.
    func nearest(to t: Double, tolerance: Double) -> Double? {
        var best: Double?
        var bestDistance = Double.infinity
        guard t.isFinite, tolerance >= 0 else { return nil }
        let first = Int(((t - tolerance) / slotSeconds).rounded(.down))
        let last = min(Int(((t + tolerance) / slotSeconds).rounded(.down)), first + times.count - 1)
        for n in first...last {
            let i = slot(number: n)
            let distance = abs(times[i] - t)
            if distance <= tolerance && distance < bestDistance {
                best = values[i]
                bestDistance = distance
            }
        }
        return best
    }
}
