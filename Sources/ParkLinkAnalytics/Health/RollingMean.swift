/// The mean of the values added during the last `bucketCount` buckets (default: 60
/// one-minute buckets = the last hour), kept incrementally.
///
/// A ring of per-bucket sums plus running totals: `add` is O(1) amortised (it clears at
/// most the buckets the clock moved past, never more than `bucketCount`), memory is fixed
/// whatever the reading rate, and no raw reading is stored. The window is whole buckets:
/// at 10:30:20 the hour is the buckets 09:31 … 10:30.
public struct RollingMean: Codable, Sendable, Equatable {
    public let bucketMs: Int64
    public let bucketCount: Int

    private struct Bucket: Codable, Sendable, Equatable {
        var index: Int64
        var sum: Double
        var count: Int
    }

    private var buckets: [Bucket]
    private var sum = 0.0
    private var count = 0
    /// The newest bucket index the ring has been advanced to.
    private var newest: Int64?

    public init(bucketMs: Int64 = 60_000, bucketCount: Int = 60) {
        precondition(bucketMs > 0 && bucketCount > 0)
        self.bucketMs = bucketMs
        self.bucketCount = bucketCount
        buckets = Array(repeating: Bucket(index: .min, sum: 0, count: 0), count: bucketCount)
    }

    /// Adds one value. Returns false, ignoring it, for a non-finite value or one older than
    /// the window of the newest value seen (it could never count again).
    @discardableResult
    public mutating func add(value: Double, atMs: Int64) -> Bool {
        guard value.isFinite else { return false }
        let index = floorDiv(atMs, bucketMs)
        if let newest {
            if index <= newest - Int64(bucketCount) { return false }
            if index > newest { advance(from: newest, to: index) }
        } else {
            newest = index
        }
        let slot = self.slot(index)
        if buckets[slot].index != index {
            buckets[slot] = Bucket(index: index, sum: 0, count: 0)
        }
        buckets[slot].sum += value
        buckets[slot].count += 1
        sum += value
        count += 1
        return true
    }

    /// The mean over the window ending at `nowMs`; nil when no value lies in it.
    /// Non-mutating, so a sampler can read a snapshot: buckets that have expired since the
    /// last `add` are subtracted on the fly (at most `bucketCount` of them).
    public func mean(nowMs: Int64) -> Double? {
        guard let newest else { return nil }
        let nowIndex = floorDiv(nowMs, bucketMs)
        let firstValid = nowIndex - Int64(bucketCount) + 1
        var s = sum
        var n = count
        let oldestHeld = newest - Int64(bucketCount) + 1
        if firstValid > oldestHeld {
            let lastExpired = min(firstValid - 1, newest)
            var k = max(oldestHeld, lastExpired - Int64(bucketCount) + 1)
            while k <= lastExpired {
                let b = buckets[slot(k)]
                if b.index == k {
                    s -= b.sum
                    n -= b.count
                }
                k += 1
            }
        }
        return n > 0 ? s / Double(n) : nil
    }

    /// Clears the buckets the clock moved past, subtracting what they held.
    private mutating func advance(from old: Int64, to new: Int64) {
        if new - old >= Int64(bucketCount) {
            for i in buckets.indices { buckets[i] = Bucket(index: .min, sum: 0, count: 0) }
            sum = 0
            count = 0
        } else {
            var k = old + 1
            while k <= new {
                let i = slot(k)
                sum -= buckets[i].sum
                count -= buckets[i].count
                buckets[i] = Bucket(index: k, sum: 0, count: 0)
                k += 1
            }
            // Subtraction leaves rounding dust; an empty window must read as exactly empty.
            if count == 0 { sum = 0 }
        }
        newest = new
    }

    private func slot(_ index: Int64) -> Int {
        Int(((index % Int64(bucketCount)) + Int64(bucketCount)) % Int64(bucketCount))
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
