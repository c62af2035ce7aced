import ParkLinkProtocol
import Testing

/// Whatever the encoder writes, the decoder reads back as the same message.
@Suite("Round trip")
struct RoundTripTests {
    static let extremes: [Message] = [
        .reading(Reading(seq: 0, sensor: 0, gatewayMs: 0, occupied: false)),
        .reading(Reading(seq: .max, sensor: .max, gatewayMs: .max, occupied: true,
                         distanceCm: .max, voltageDv: .max, currentMa: .max, powerFactorPct: 100)),
        .reading(Reading(seq: 1, sensor: 1, gatewayMs: 1, occupied: true,
                         distanceCm: 0, voltageDv: 0, currentMa: 0, powerFactorPct: 0)),
        .reading(Reading(seq: 256, sensor: 256, gatewayMs: 65536, occupied: false, voltageDv: 256)),
        .heartbeat(Heartbeat(nextSeq: .max, uptimeMs: .max, txDropped: .max)),
        .heartbeat(Heartbeat(nextSeq: 0, uptimeMs: 0, txDropped: 0)),
        .hello(Hello(gatewayId: String(repeating: "Z", count: 32), bootId: .max,
                     firmware: FirmwareVersion(major: 255, minor: 255, patch: 255), sensorCount: .max)),
        .hello(Hello(gatewayId: "-", bootId: 0, firmware: FirmwareVersion(major: 0, minor: 0, patch: 0), sensorCount: 0)),
        .led(LEDCommand(sensor: .max, color: .off)),
        .led(LEDCommand(sensor: 0, color: .amber)),
        .ping,
    ]

    @Test("extreme values and absent fields survive the trip", arguments: FrameEncoding.allCases)
    func extremeValues(encoding: FrameEncoding) {
        for message in Self.extremes {
            let result = decode(MessageEncoder.encode(message, as: encoding), as: encoding)
            #expect(result.events == [.message(message)])
        }
    }

    @Test("random messages survive the trip, in any pieces", arguments: FrameEncoding.allCases)
    func random(encoding: FrameEncoding) {
        let messages = RandomMessages.messages(5_000, seed: 0x5EED)
        let stream = encodeAll(messages, as: encoding)
        var g = SeededGenerator(seed: 7)
        let pieces = (0..<stream.count).map { _ in Int.random(in: 1...300, using: &g) }
        let result = decode(stream, as: encoding, pieces: pieces)
        #expect(result.rejects.isEmpty)
        #expect(result.messages == messages)
        #expect(result.noiseBytes == 0)
    }

    @Test("the longest text line the encoder can write fits the 128-byte limit")
    func longestTextLine() {
        let longest = Message.reading(Reading(seq: .max, sensor: .max, gatewayMs: .max, occupied: true,
                                             distanceCm: .max, voltageDv: .max, currentMa: .max, powerFactorPct: 100))
        let hello = Self.extremes[6]
        #expect(MessageEncoder.encode(longest, as: .text).count <= TextFrameDecoder.maxLineBytes)
        #expect(MessageEncoder.encode(hello, as: .text).count <= TextFrameDecoder.maxLineBytes)
        #expect(MessageEncoder.encode(hello, as: .binary).count - 1 <= BinaryFrameDecoder.maxFrameBytes)
    }

    @Test("append adds to what the buffer holds and leaves it intact")
    func appendKeepsPrefix() {
        var buffer: [UInt8] = [1, 2, 3]
        MessageEncoder.append(.ping, as: .text, to: &buffer)
        #expect(buffer == [1, 2, 3] + Array("$PING*6427\r\n".utf8))
    }

    @Test("the encoder writes invalid values as given, and the decoder rejects them")
    func encoderDoesNotValidate() {
        let bad = Message.reading(Reading(seq: 1, sensor: 2, gatewayMs: 3, occupied: true, powerFactorPct: 101))
        for encoding in FrameEncoding.allCases {
            #expect(decode(MessageEncoder.encode(bad, as: encoding), as: encoding).events == [.rejected(.malformed)])
        }
    }
}
