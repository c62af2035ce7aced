import ParkLinkProtocol
import Testing

@Suite("COBS")
struct COBSTests {
    /// The examples of Cheshire and Baker's paper (as tabulated on Wikipedia).
    static let published: [(decoded: [UInt8], encoded: [UInt8])] = [
        ([], [0x01]),
        ([0x00], [0x01, 0x01]),
        ([0x00, 0x00], [0x01, 0x01, 0x01]),
        ([0x00, 0x11, 0x00], [0x01, 0x02, 0x11, 0x01]),
        ([0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]),
        ([0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]),
        ([0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]),
        (Array(1...254), [0xFF] + Array(1...254)),
        ([0x00] + Array(1...254), [0x01, 0xFF] + Array(1...254)),
        (Array(1...255), [0xFF] + Array(1...254) + [0x02, 0xFF]),
        (Array(2...255) + [0x00], [0xFF] + Array(2...255) + [0x01, 0x01]),
        (Array(3...255) + [0x00, 0x01], [0xFE] + Array(3...255) + [0x02, 0x01]),
    ]

    @Test("the published examples encode and decode exactly", arguments: 0..<published.count)
    func publishedExamples(index: Int) {
        let (decoded, encoded) = Self.published[index]
        #expect(COBS.encode(decoded) == encoded)
        #expect(COBS.decode(encoded) == decoded)
    }

    @Test("random payloads, with zeros and 253–255-byte runs, round-trip without a zero byte")
    func roundTrip() {
        var g = SeededGenerator(seed: 0xC0B5)
        var payloads: [[UInt8]] = [[], [0], Array(repeating: 0, count: 600)]
        for run in [253, 254, 255, 508, 509] {
            let nonZero = (0..<run).map { _ in UInt8.random(in: 1...255, using: &g) }
            payloads += [nonZero, nonZero + [0], [0] + nonZero, nonZero + [0] + nonZero]
        }
        for _ in 0..<500 {
            let length = Int.random(in: 0...700, using: &g)
            let zeroChance = [0, 2, 50, 255].randomElement(using: &g)!
            payloads.append(
                (0..<length).map { _ in
                    Int.random(in: 0..<256, using: &g) < zeroChance ? 0 : UInt8.random(in: 1...255, using: &g)
                })
        }
        for payload in payloads {
            let encoded = COBS.encode(payload)
            #expect(!encoded.contains(0))
            #expect(encoded.count <= COBS.maxEncodedCount(payload.count))
            #expect(COBS.decode(encoded) == payload, "length \(payload.count)")
        }
    }

    @Test("a trailing 0x01 group after a full run decodes the same as without it")
    func redundantFinalGroup() {
        let run = Array(UInt8(1)...UInt8(254))
        #expect(COBS.decode([0xFF] + run + [0x01]) == run)
    }

    @Test(
        "what no encoder writes is rejected",
        arguments: [
            [],  // nothing: even an empty payload encodes as 01
            [0x00],  // a zero code
            [0x03, 0x11, 0x00],  // a zero inside a run
            [0x05, 0x11, 0x22],  // a run longer than the frame: cut short
            [0x02, 0x11, 0x00, 0x01],  // a zero where a code belongs
        ] as [[UInt8]])
    func invalid(encoded: [UInt8]) {
        #expect(COBS.decode(encoded) == nil)
    }
}
