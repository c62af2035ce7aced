import ParkLinkProtocol
import Testing

/// How the binary decoder finds frames in a stream and recovers from damage.
@Suite("Binary framing")
struct BinaryFrameDecoderTests {
    static let reading = Vectors.all.binary[1]
    static let hello = Vectors.all.binary[0]
    var r: Message { Self.reading.decoded.message }

    @Test("empty frames and frames that decode to nothing are noise, counted byte for byte")
    func noise() {
        let stream: [UInt8] = [0, 0] + Self.hello.wire + [0x01, 0x00] + Self.reading.wire + [0, 0x01, 0x00]
        let result = decode(stream, as: .binary)
        #expect(result.events == [.message(Self.hello.decoded.message), .message(r)])
        #expect(result.noiseBytes == 2 + 2 + 1 + 2)
    }

    @Test("a corrupt frame in the middle costs only that frame")
    func corruptMiddle() {
        var corrupt = Self.reading.wire
        corrupt[6] ^= 0x40  // the low byte of `sensor` (bytes 0, 2, 3, 4, 5 are COBS codes)
        let result = decode(Self.hello.wire + corrupt + Self.reading.wire, as: .binary)
        #expect(result.events == [.message(Self.hello.decoded.message), .rejected(.badCRC), .message(r)])
    }

    @Test("a receiver that joins mid-frame loses that frame only")
    func joinMidFrame() {
        let stream = Array(Self.reading.wire.suffix(9)) + Self.reading.wire
        let result = decode(stream, as: .binary)
        #expect(result.events.count == 2)
        #expect(result.events.last == .message(r))
        #expect(result.events.first != .message(r))
    }

    @Test("a frame whose stuffing is broken is badFraming")
    func badStuffing() {
        // The first code claims 12 bytes but the frame ends after 3.
        let result = decode([0x0C, 0x02, 0x00, 0x01, 0x00] + Self.reading.wire, as: .binary)
        #expect(result.events == [.rejected(.badFraming), .message(r)])
    }

    @Test("a decoded frame too short for a type and a checksum is badFraming", arguments: [[0x02, 0x11], [0x03, 0x11, 0x22]] as [[UInt8]])
    func tooShort(encoded: [UInt8]) {
        #expect(decode(encoded + [0], as: .binary).events == [.rejected(.badFraming)])
    }

    @Test("a frame of maxFrameBytes is judged on its content; one byte more is tooLong")
    func lengthLimit() {
        let limit = BinaryFrameDecoder.maxFrameBytes
        // A HELLO whose id is too long: valid stuffing and CRC, wrong content.
        func frame(encodedBytes: Int) -> [UInt8] {
            let payloadLength = encodedBytes - 1 - 1 - 2  // COBS code, type, CRC
            return Frames.binary(type: 0x01, payload: Array(repeating: UInt8(ascii: "A"), count: payloadLength))
        }
        let longest = frame(encodedBytes: limit)
        let tooLong = frame(encodedBytes: limit + 1) + Self.reading.wire
        #expect(longest.count == limit + 1)
        // Wherever a read() cuts the frame, including inside the carried part.
        for split in 0...tooLong.count {
            #expect(decode(longest, as: .binary, pieces: [split]).events == [.rejected(.malformed)], "split at \(split)")
            #expect(decode(tooLong, as: .binary, pieces: [split]).events == [.rejected(.tooLong), .message(r)], "split at \(split)")
        }
        let bytewise = Array(repeating: 1, count: tooLong.count)
        #expect(decode(longest, as: .binary, pieces: bytewise).events == [.rejected(.malformed)])
        #expect(decode(tooLong, as: .binary, pieces: bytewise).events == [.rejected(.tooLong), .message(r)])
    }

    @Test("an overlong frame is rejected once, and the next frame decodes, however the bytes arrive",
          arguments: [[], [1], [7, 100, 3], [30, 30], [4096]])
    func overlong(pieces: [Int]) {
        let stream = Array(repeating: 0x55, count: 10_000) + [0] + Self.reading.wire
        let result = decode(stream, as: .binary, pieces: Array(repeating: pieces, count: stream.count).flatMap { $0 })
        #expect(result.events == [.rejected(.tooLong), .message(r)])
        #expect(result.noiseBytes == 0)
    }

    @Test("finishing the stream rejects an unfinished frame; the next stream starts clean")
    func finishRejectsPartialFrame() {
        var decoder = BinaryFrameDecoder()
        var sink = CollectingSink()
        Array(Self.reading.wire.prefix(10)).withUnsafeBytes { decoder.feed($0, into: &sink) }
        #expect(sink.events.isEmpty)
        decoder.finish(into: &sink)
        Self.reading.wire.withUnsafeBytes { decoder.feed($0, into: &sink) }
        #expect(sink.events == [.rejected(.badFraming), .message(r)])
    }

    @Test("finishing between frames reports nothing")
    func finishBetweenFrames() {
        #expect(decode(Self.reading.wire, as: .binary, finish: true).events == [.message(r)])
    }
}

/// Field rules of the binary encoding. Every frame here has correct stuffing and CRC,
/// so the verdict is about type and payload alone.
@Suite("Binary fields")
struct BinaryFieldTests {
    static let allFlags: UInt8 = 0x1F

    @Test("a type code the protocol does not define is unknownType", arguments: [0x00, 0x04, 0x0F, 0x12, 0xFF] as [UInt8])
    func unknownType(code: UInt8) {
        #expect(decode(Frames.binary(type: code, payload: [1, 2, 3]), as: .binary).events == [.rejected(.unknownType)])
    }

    @Test(
        "a payload of the wrong length is malformed",
        arguments: [
            (0x02, 17), (0x02, 19), (0x03, 11), (0x03, 13), (0x10, 2), (0x10, 4), (0x11, 1), (0x01, 0),
        ] as [(UInt8, Int)])
    func wrongLength(code: UInt8, length: Int) {
        let payload = Array(repeating: UInt8(1), count: length)
        #expect(decode(Frames.binary(type: code, payload: payload), as: .binary).events == [.rejected(.malformed)])
    }

    @Test(
        "a reading that breaks a field rule is malformed",
        arguments: [
            Frames.readingPayload(flags: allFlags, powerFactor: 101),  // power factor above 100
            Frames.readingPayload(flags: allFlags, powerFactor: 255),
            Frames.readingPayload(flags: 0x20),  // reserved flag bit
            Frames.readingPayload(flags: 0x81),
            Frames.readingPayload(flags: 0x01, distance: 5),  // absent fields must be zero
            Frames.readingPayload(flags: 0x01, voltage: 5),
            Frames.readingPayload(flags: 0x01, current: 5),
            Frames.readingPayload(flags: 0x01, powerFactor: 5),
        ])
    func malformedReading(payload: [UInt8]) {
        #expect(decode(Frames.binary(type: 0x02, payload: payload), as: .binary).events == [.rejected(.malformed)])
    }

    @Test("each presence flag controls its own field")
    func presenceFlags() {
        let flags: [(UInt8, Reading)] = [
            (0x00, Reading(seq: 7, sensor: 3, gatewayMs: 1000, occupied: false)),
            (0x03, Reading(seq: 7, sensor: 3, gatewayMs: 1000, occupied: true, distanceCm: 0)),
            (0x04, Reading(seq: 7, sensor: 3, gatewayMs: 1000, occupied: false, voltageDv: 0)),
            (0x08, Reading(seq: 7, sensor: 3, gatewayMs: 1000, occupied: false, currentMa: 0)),
            (0x10, Reading(seq: 7, sensor: 3, gatewayMs: 1000, occupied: false, powerFactorPct: 0)),
        ]
        for (flag, expected) in flags {
            let frame = Frames.binary(type: 0x02, payload: Frames.readingPayload(flags: flag))
            #expect(decode(frame, as: .binary).events == [.message(.reading(expected))], "flags \(flag)")
        }
    }

    @Test(
        "a HELLO that breaks a field rule is malformed",
        arguments: [
            [0] + Frames.le32(1) + [1, 0, 0] + Frames.le16(1),  // empty id
            [33] + Array(repeating: UInt8(ascii: "A"), count: 33) + Frames.le32(1) + [1, 0, 0] + Frames.le16(1),
            [5] + Array("GW.01".utf8) + Frames.le32(1) + [1, 0, 0] + Frames.le16(1),  // '.' is not an id character
            [6] + Array("GW-01".utf8) + Frames.le32(1) + [1, 0, 0] + Frames.le16(1),  // id_len disagrees with the length
        ] as [[UInt8]])
    func malformedHello(payload: [UInt8]) {
        #expect(decode(Frames.binary(type: 0x01, payload: payload), as: .binary).events == [.rejected(.malformed)])
    }

    @Test("an LED colour code above 4 is malformed")
    func ledColour() {
        #expect(decode(Frames.binary(type: 0x10, payload: [12, 0, 5]), as: .binary).events == [.rejected(.malformed)])
        #expect(decode(Frames.binary(type: 0x10, payload: [12, 0, 4]), as: .binary).events == [.message(.led(LEDCommand(sensor: 12, color: .amber)))])
    }
}
