/// A forecast with its prediction interval, in cars.
public struct Prediction: Sendable, Equatable, Codable {
    public var expected: Double
    public var lower: Double
    public var upper: Double

    public init(expected: Double, lower: Double, upper: Double) {
        self.expected = expected
        self.lower = lower
        self.upper = upper
    }

    public var width: Double { upper - lower }

    public func covers(_ actual: Double) -> Bool { lower <= actual && actual <= upper }
}

/// The ends of a central prediction interval in units of an error scale, tracked online:
/// the lower end is the (1 − coverage)/2 quantile of the normalized errors seen so far,
/// the upper end the (1 + coverage)/2 one.
///
/// Why online quantile tracking (a stochastic-gradient step per error) and not a fixed
/// multiple of the scale: the errors are neither normal nor symmetric (a car park that
/// fills faster than usual errs differently from one that fills slower), and their shape
/// drifts with the season; the tracker follows the coverage it is asked for whatever the
/// shape, in O(1) per error, and forgets as it goes.
struct IntervalCalibration: Codable, Sendable, Equatable {
    let lowerQuantile: Double
    let upperQuantile: Double
    private(set) var lower: Double
    private(set) var upper: Double
    private(set) var updates = 0

    init(coverage: Double) {
        precondition(coverage > 0 && coverage < 1)
        lowerQuantile = (1 - coverage) / 2
        upperQuantile = (1 + coverage) / 2
        // About right for errors with a Laplace-like shape at 80%: a fast start.
        lower = -1.6
        upper = 1.6
    }

    mutating func learn(normalizedError u: Double, rate: Double) {
        guard u.isFinite else { return }
        lower += rate * (lowerQuantile - (u <= lower ? 1 : 0))
        upper += rate * (upperQuantile - (u <= upper ? 1 : 0))
        updates += 1
    }
}
