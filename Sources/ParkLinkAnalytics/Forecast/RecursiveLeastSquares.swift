/// Exponentially weighted recursive least squares: the online form of a linear
/// regression, O(n²) per update for n features (n = 6 here), no stored samples.
///
/// Starts at a prior weight vector, so that with few pairs the forecaster behaves like
/// the model the prior encodes (seasonal persistence) instead of like noise.
struct RecursiveLeastSquares: Codable, Sendable, Equatable {
    private(set) var weights: [Double]
    /// Row-major n×n inverse-information matrix.
    private var covariance: [Double]
    private(set) var updates: Int = 0
    /// When the last pair was learned, for time-based forgetting.
    private(set) var lastUpdate: Double?

    /// Bounds the trace of the covariance: directions the features never excite would
    /// otherwise grow by 1/λ per update for as long as the appliance runs.
    private static let maximumTrace = 1e4

    init(prior: [Double], initialVariance: Double) {
        weights = prior
        let n = prior.count
        covariance = Array(repeating: 0, count: n * n)
        for i in 0..<n { covariance[i * n + i] = initialVariance }
    }

    func predict(_ x: [Double]) -> Double {
        var sum = 0.0
        for i in 0..<weights.count { sum += weights[i] * x[i] }
        return sum
    }

    /// `forgetting` is λ for this step (1 = remember everything).
    mutating func update(_ x0: [Double], target: Double, forgetting: Double, at time: Double, weight: Double = 1) {
        let n = weights.count
        precondition(x0.count == n)
        guard x0.allSatisfy(\.isFinite), target.isFinite, weight > 0, weight.isFinite else { return }
        let root = weight.squareRoot()
        let x = weight == 1 ? x0 : x0.map { $0 * root }
        let error = (target - predict(x0)) * root
        covariance.withUnsafeMutableBufferPointer { p in
            weights.withUnsafeMutableBufferPointer { w in
                var px = [Double](repeating: 0, count: n)
                var denominator = forgetting
                for i in 0..<n {
                    var s = 0.0
                    for j in 0..<n { s += p[i * n + j] * x[j] }
                    px[i] = s
                    denominator += x[i] * s
                }
                var trace = 0.0
                for i in 0..<n {
                    let gain = px[i] / denominator
                    w[i] += gain * error
                    for j in 0..<n {
                        p[i * n + j] = (p[i * n + j] - gain * px[j]) / forgetting
                    }
                }
                // Keep P symmetric: rounding would otherwise make it drift apart.
                for i in 0..<n {
                    for j in (i + 1)..<n {
                        let m = 0.5 * (p[i * n + j] + p[j * n + i])
                        p[i * n + j] = m
                        p[j * n + i] = m
                    }
                    trace += p[i * n + i]
                }
                if trace > Self.maximumTrace {
                    let scale = Self.maximumTrace / trace
                    for k in 0..<(n * n) { p[k] *= scale }
                }
            }
        }
        updates += 1
        lastUpdate = time
    }

    var covarianceTrace: Double {
        let n = weights.count
        return (0..<n).reduce(0) { $0 + covariance[$1 * n + $1] }
    }
}
