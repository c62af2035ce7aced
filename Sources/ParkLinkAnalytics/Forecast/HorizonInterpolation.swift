/// Both forecasters learn corrections for a few fixed horizons (15, 30, 60, 120 min) and
/// answer any other horizon from the two nearest ones.
enum HorizonInterpolation {
    /// Linear interpolation at `h` minutes between the two nearest horizons for which
    /// `value` answers; the nearest one when `h` lies outside their span; `fallback`
    /// when none answers (no horizon has learned enough yet).
    static func interpolate(at h: Double, horizons: [Double], fallback: Double, value: (Int) -> Double?) -> Double {
        var below: (minutes: Double, value: Double)?
        var above: (minutes: Double, value: Double)?
        for (k, minutes) in horizons.enumerated() {
            let nearerBelow = minutes <= h && (below.map { minutes > $0.minutes } ?? true)
            let nearerAbove = minutes >= h && (above.map { minutes < $0.minutes } ?? true)
            guard nearerBelow || nearerAbove, let v = value(k) else { continue }
            if nearerBelow { below = (minutes, v) }
            if nearerAbove { above = (minutes, v) }
        }
        switch (below, above) {
        case let (b?, a?) where a.minutes > b.minutes:
            let f = (h - b.minutes) / (a.minutes - b.minutes)
            return (1 - f) * b.value + f * a.value
        case let (b?, _): return b.value
        case let (nil, a?): return a.value
        case (nil, nil): return fallback
        }
    }
}
