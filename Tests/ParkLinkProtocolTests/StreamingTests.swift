import ParkLinkProtocol
import Testing

/// A decoder's output must not depend on how `read()` happened to cut the stream.
@Suite("Streaming")
struct StreamingTests {
    /// Every vector, good and bad, with noise around them: a stream that exercises each
    /// path through the decoder, including the carry of every kind of partial frame.
    static func stream(_ encoding: FrameEncoding) -> [UInt8] {
        switch encoding {
        case .text:
            var bytes = Array("noise\r\n".utf8)
            for (good, bad) in zip(Vectors.all.text.cycled(), Vectors.all.invalidText) {
                bytes += good.bytes + bad.bytes + Array("~".utf8)
            }
            return bytes + Array("$R,1,2".utf8) + Vectors.all.text.flatMap(\.bytes)
        case .binary:
            var bytes: [UInt8] = [0, 0]
            for vector in Vectors.all.binary {
                var badCRC = vector.wire
                badCRC[1] ^= 0x80  // the type byte, never a COBS code here
                bytes += vector.wire + [0x01, 0x00] + [0x05, 0x11, 0x00] + Array(repeating: 0x33, count: 80) + [0]
                bytes += badCRC + Frames.binary(type: 0x42, payload: [1])
            }
            return bytes + Vectors.all.binary.flatMap(\.wire)
        }
    }

    @Test("the stream has something to lose", arguments: FrameEncoding.allCases)
    func streamIsInteresting(encoding: FrameEncoding) {
        let whole = decode(Self.stream(encoding), as: encoding)
        #expect(whole.messages.count >= 16)
        #expect(Set(whole.rejects).count >= 4)
        #expect(whole.noiseBytes > 0)
    }

    @Test("cut in two at every point, the stream decodes the same", arguments: FrameEncoding.allCases)
    func everySplit(encoding: FrameEncoding) {
        let stream = Self.stream(encoding)
        let whole = decode(stream, as: encoding)
        var differing: [Int] = []
        for split in 0...stream.count where decode(stream, as: encoding, pieces: [split]) != whole {
            differing.append(split)
        }
        #expect(differing.isEmpty)
    }

    @Test("fed one byte at a time, the stream decodes the same", arguments: FrameEncoding.allCases)
    func byteByByte(encoding: FrameEncoding) {
        let stream = Self.stream(encoding)
        #expect(decode(stream, as: encoding, pieces: Array(repeating: 1, count: stream.count)) == decode(stream, as: encoding))
    }

    @Test("fed in random pieces, the stream decodes the same", arguments: FrameEncoding.allCases)
    func randomPieces(encoding: FrameEncoding) {
        let stream = Self.stream(encoding)
        let whole = decode(stream, as: encoding)
        var g = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            let pieces = (0..<stream.count).map { _ in Int.random(in: 0...70, using: &g) }
            #expect(decode(stream, as: encoding, pieces: pieces) == whole)
        }
    }

    @Test("StreamDecoder decodes as the decoder for its encoding does", arguments: FrameEncoding.allCases)
    func streamDecoderDelegates(encoding: FrameEncoding) {
        let stream = Self.stream(encoding)
        let pieces = [3, 50, 1, 17, 200]
        let direct = decode(stream, as: encoding, pieces: pieces, finish: true)
        let wrapped = decode(stream, with: StreamDecoder(encoding: encoding), pieces: pieces, finish: true)
        #expect(wrapped == direct)
        #expect(StreamDecoder(encoding: encoding).encoding == encoding)
    }
}

extension Array {
    /// The elements over and over: to pair a short list with a longer one.
    func cycled() -> some Sequence<Element> {
        sequence(state: 0) { index in
            defer { index = (index + 1) % count }
            return self[index]
        }
    }
}
