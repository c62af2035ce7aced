/// One past reading the forecaster may learn from once its future arrives, with the
/// momentum context it had when it was the newest reading.
struct Origin: Codable, Sendable, Equatable {
    /// Wall-clock seconds (local time of the car park, see `ForecasterConfig.timeZone`).
    var time: Double
    /// Occupancy as a fraction of capacity.
    var fraction: Double
    var lag1: Lag?
    var lag2: Lag?
    /// Bit k set: already learned for learned horizon k, so a dense feed does not learn
    /// the same pair over and over.
    var learned: UInt32 = 0

    struct Lag: Codable, Sendable, Equatable {
        var time: Double
        var fraction: Double
    }
}

/// The last few origins, one per slot, in a fixed-size ring: bounded memory whatever the
/// feed rate, and enough history for the longest learned horizon.
struct OriginRing: Codable, Sendable, Equatable {
    private(set) var slots: [Origin?]
    private var newestIndex = -1
    private let slotSeconds: Double

    init(capacity: Int, slotSeconds: Double) {
        precondition(capacity > 0 && slotSeconds > 0)
        slots = Array(repeating: nil, count: capacity)
        self.slotSeconds = slotSeconds
    }

    var newest: Origin? { newestIndex >= 0 ? slots[newestIndex] : nil }

    /// A reading in the same slot as the newest replaces it: the origin keeps the latest
    /// state of its slot.
    mutating func push(_ origin: Origin) {
        if let last = newest,
           (last.time / slotSeconds).rounded(.down) == (origin.time / slotSeconds).rounded(.down) {
            slots[newestIndex] = origin
            return
        }
        newestIndex = (newestIndex + 1) % slots.count
        slots[newestIndex] = origin
    }

    /// The newest origin whose age at `time` lies in `ages` (seconds); nil when the newest
    /// one old enough is already too old (a gap, e.g. overnight).
    func lag(at time: Double, ages: ClosedRange<Double>) -> Origin.Lag? {
        guard newestIndex >= 0 else { return nil }
        for step in 0..<slots.count {
            let i = (newestIndex - step + slots.count) % slots.count
            guard let o = slots[i] else { return nil }
            let age = time - o.time
            if age >= ages.lowerBound {
                return age <= ages.upperBound ? Origin.Lag(time: o.time, fraction: o.fraction) : nil
            }
        }
        return nil
    }

    /// The slot whose origin lies nearest to `time - horizon` within `tolerance`, strictly
    /// before `time`.
    func nearestOrigin(to time: Double, horizon: Double, tolerance: Double) -> Int? {
        var best: Int?
        var bestDistance = Double.infinity
        for i in 0..<slots.count {
            guard let o = slots[i], o.time < time else { continue }
            let distance = abs(o.time + horizon - time)
            if distance <= tolerance && distance < bestDistance {
                best = i
                bestDistance = distance
            }
        }
        return best
    }

    /// For each learned horizon `k`, the origin about `horizons[k]` minutes before `time`
    /// that has not yet given that horizon a training pair; marks it as having given one,
    /// so each (origin, horizon) pair is learned once.
    mutating func claimOrigins(endingAt time: Double, horizonsMinutes horizons: [Double], tolerance: Double)
        -> [(horizon: Int, origin: Origin)]
    {
        var out: [(horizon: Int, origin: Origin)] = []
        for (k, minutes) in horizons.enumerated() {
            let bit = UInt32(1) << UInt32(k)
            guard let slot = nearestOrigin(to: time, horizon: minutes * 60, tolerance: tolerance),
                  var origin = slots[slot], origin.learned & bit == 0
            else { continue }
            origin.learned |= bit
            slots[slot] = origin
            out.append((k, origin))
        }
        return out
    }

    subscript(index: Int) -> Origin? {
        get { slots[index] }
        set { slots[index] = newValue }
    }
}
