import Foundation
import Testing

@testable import ParkLinkStore

@Suite("SQL literals for text statements")
struct SQLLiteralTests {
    @Test("numbers are written as %.3f writes them, without Foundation's formatter; not finite is NULL")
    func threeDecimals() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        // Ties: 0.0625 × 1000 = 62.5 exactly (to even: 0.062), 0.1875 (187.5: 0.188); 4.7885 lies just below its tie.
        var values: [Double] = [0, -0.0, 1.5, -3.2, 87.25, 229.87654, 1e-7, -1e-7, 0.999_9, 12_345.678, 1_499.4, 9.99e13,
                                0.0625, 0.1875, -0.0625, 4.7885, 1e15, 123_456_789_012.345_6]
        for _ in 0..<10_000 {
            let magnitude = pow(10, Double(next() % 12) - 3)
            values.append((Double(next() % 2_000_001) / 1_000_000 - 1) * magnitude)
        }
        for v in values {
            #expect(SQLLiteral.number(v) == String(format: "%.3f", v), "\(v)")
        }
        #expect(SQLLiteral.number(.nan) == "NULL" && SQLLiteral.number(.infinity) == "NULL")
    }
}
