/// Running MAE and RMSE over forecast errors, in cars.
public struct ErrorStatistics: Sendable, Equatable {
    public private(set) var count = 0
    private var sumAbsolute = 0.0
    private var sumSquared = 0.0

    public init() {}

    public mutating func add(forecast: Double, actual: Double) {
        let e = forecast - actual
        count += 1
        sumAbsolute += abs(e)
        sumSquared += e * e
    }

    /// Nil with no samples: an empty horizon has no error, not an error of zero.
    public var mae: Double? { count > 0 ? sumAbsolute / Double(count) : nil }
    public var rmse: Double? { count > 0 ? (sumSquared / Double(count)).squareRoot() : nil }
}
