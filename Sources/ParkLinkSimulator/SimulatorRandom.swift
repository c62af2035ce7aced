#if canImport(Glibc)
import Glibc
#endif

/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64.
///
/// The simulator draws several numbers per reading at 150,000 readings a second, and a
/// test that sets `seed` must see the same values again: the system generator is
/// neither fast enough per call nor seedable.
struct SimulatorRandom: RandomNumberGenerator {
    private var s0, s1, s2, s3: UInt64

    init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1), 53 bits.
    @inline(__always)
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// True with probability `p`.
    @inline(__always)
    mutating func chance(_ p: Double) -> Bool {
        p > 0 && unit() < p
    }

    /// Uniform in `range`.
    @inline(__always)
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }

    /// Symmetric triangular noise in [-width, width]: the sum of two uniforms, so it
    /// bunches around 0 like a measurement error, without Box–Muller's logarithm and
    /// square root on every reading.
    @inline(__always)
    mutating func noise(_ width: Double) -> Double {
        (unit() + unit() - 1) * width
    }

    /// Exponentially distributed with the given mean: dwell times of a bay.
    mutating func exponential(mean: Double) -> Double {
        -mean * log(1 - unit())
    }

    /// A boot id: random from the system, never from `seed`, so two runs with the same
    /// seed against the same database never reuse `(gateway_id, boot_id)` and silently
    /// collide on the store's key.
    static func freshBootId(avoiding previous: UInt32?) -> UInt32 {
        var g = SystemRandomNumberGenerator()
        while true {
            let id = UInt32.random(in: 1...UInt32.max, using: &g)
            if id != previous { return id }
        }
    }
}
