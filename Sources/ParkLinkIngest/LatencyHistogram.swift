/// Frame→commit latency in whole milliseconds: 1 ms buckets up to 10 s, then one
/// overflow bucket, plus the exact maximum. Fixed memory; the writer adds a batch at a
/// time and `parklink status` reads percentiles from a copy.
public struct LatencyHistogram: Sendable, Equatable {
    public static let bucketCount = 10_000
    private var buckets = [Int](repeating: 0, count: LatencyHistogram.bucketCount + 1)
    public private(set) var count = 0
    public private(set) var maxMs: Int64 = 0

    public init() {}

    @inline(__always)
    public mutating func record(_ ms: Int64) {
        let v = max(ms, 0)
        buckets[Int(min(v, Int64(Self.bucketCount)))] += 1
        count += 1
        if v > maxMs { maxMs = v }
    }

    /// Samples per bucket: index `i` counts latencies of `i` ms, the last one those of
    /// 10 s and more. For exporters that rebuild the distribution elsewhere.
    public var bucketCounts: [Int] { buckets }

    /// The smallest latency at or below which `p` (0…1) of the samples fall.
    public func percentile(_ p: Double) -> Int64? {
        guard count > 0 else { return nil }
        let target = max(1, Int((Double(count) * p).rounded(.up)))
        var seen = 0
        for (ms, n) in buckets.enumerated() {
            seen += n
            if seen >= target { return ms == Self.bucketCount ? maxMs : Int64(ms) }
        }
        return maxMs
    }
}
