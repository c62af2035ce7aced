import ParkLinkProtocol
import Testing

/// How the text decoder finds lines in a stream and recovers from damage.
@Suite("Text framing")
struct TextFrameDecoderTests {
    static let reading = Vectors.all.text[1]
    static let hello = Vectors.all.text[0]
    var r: Message { Self.reading.decoded.message }

    @Test("noise before and between lines is skipped and counted, byte for byte")
    func noise() {
        let stream = Array("boot banner\r\n".utf8) + Self.hello.bytes + [0xFF, 0x00, 0x0A, 0x0D] + Self.reading.bytes
            + Array("tail".utf8)
        let result = decode(stream, as: .text)
        #expect(result.events == [.message(Self.hello.decoded.message), .message(r)])
        #expect(result.noiseBytes == 13 + 4 + 4)
    }

    @Test("\\r before \\n is optional")
    func bareNewline() {
        let line = Self.reading.bytes.filter { $0 != UInt8(ascii: "\r") }
        #expect(decode(line, as: .text).events == [.message(r)])
    }

    @Test("a lower-case checksum is accepted")
    func lowercaseChecksum() {
        let line = Frames.textLine("R,0,12,1034,1,38,2301,420,97", lowercaseCRC: true)
        #expect(line.contains(UInt8(ascii: "e")))  // 58e6: the case really differs
        #expect(decode(line, as: .text).events == [.message(r)])
    }

    @Test("a \\r anywhere but before \\n makes the line malformed")
    func strayCarriageReturn() {
        let line = Array("$R,0,12,1034,1,38,2301,420,97*58E6\r\r\n".utf8)
        #expect(decode(line, as: .text).events == [.rejected(.malformed)])
    }

    @Test("a checksum that is not four hex digits is malformed, not missing")
    func shortChecksum() {
        for trailer in ["*58E", "*58E66", "*58EG", "*"] {
            let line = Array("$R,0,12,1034,1,38,2301,420,97\(trailer)\r\n".utf8)
            #expect(decode(line, as: .text).events == [.rejected(.malformed)], "\(trailer)")
        }
    }

    @Test("a corrupt line in the middle costs only that line")
    func corruptMiddle() {
        var corrupt = Self.reading.bytes
        corrupt[5] = UInt8(ascii: "7")  // a field changes, the checksum does not
        let stream = Self.hello.bytes + corrupt + Self.reading.bytes
        let result = decode(stream, as: .text)
        #expect(result.events == [.message(Self.hello.decoded.message), .rejected(.badCRC), .message(r)])
    }

    @Test("a $ inside a line rejects the cut-off line as malformed and starts a new one")
    func dollarResynchronises() {
        let cut = Array(Self.reading.bytes.prefix(15))
        let result = decode(cut + Self.reading.bytes, as: .text)
        #expect(result.events == [.rejected(.malformed), .message(r)])
        #expect(result.noiseBytes == 0)
    }

    @Test("a line of exactly 128 bytes is accepted, one of 129 is too long")
    func lengthLimit() {
        // Leading zeros pad a valid reading to any length.
        func line(bytes total: Int) -> [UInt8] {
            let shortest = Frames.textLine("R,0,12,1034,1,38,2301,420,97").count
            return Frames.textLine("R,\(String(repeating: "0", count: total - shortest + 1)),12,1034,1,38,2301,420,97")
        }
        let limit = TextFrameDecoder.maxLineBytes
        let longest = line(bytes: limit)
        let tooLong = line(bytes: limit + 1) + Self.reading.bytes
        #expect(longest.count == limit)
        // Wherever a read() cuts the line, including inside the carried part.
        for split in 0...tooLong.count {
            #expect(decode(longest, as: .text, pieces: [split]).events == [.message(r)], "split at \(split)")
            #expect(decode(tooLong, as: .text, pieces: [split]).events == [.rejected(.tooLong), .message(r)], "split at \(split)")
        }
        let bytewise = Array(repeating: 1, count: tooLong.count)
        #expect(decode(longest, as: .text, pieces: bytewise).events == [.message(r)])
        #expect(decode(tooLong, as: .text, pieces: bytewise).events == [.rejected(.tooLong), .message(r)])
    }

    @Test("128 bytes with no end of line are too long at once, however they arrive: a finish there counts tooLong")
    func tooLongAtTheLimit() {
        // Pinned by the fuzzer's reference model (fuzz/Sources/FuzzSupport/Model.swift):
        // the line is certain to be too long once its 128th byte is not its `\n`, so it
        // is rejected there, not when a 129th byte arrives.
        let limit = TextFrameDecoder.maxLineBytes
        let cut = [UInt8(ascii: "$")] + Array(repeating: UInt8(ascii: "7"), count: limit - 1)
        for split in 0...cut.count {
            #expect(decode(cut, as: .text, pieces: [split]).events == [.rejected(.tooLong)], "split at \(split)")
            #expect(decode(cut, as: .text, pieces: [split], finish: true).events == [.rejected(.tooLong)], "split at \(split)")
        }
        // One byte short is still an unfinished line: malformed only when the stream ends.
        let short = Array(cut.dropLast())
        #expect(decode(short, as: .text).events == [])
        #expect(decode(short, as: .text, finish: true).events == [.rejected(.malformed)])
        // What follows the limit belongs to the rejected line up to its `\n`, or a `$`.
        let stream = cut + Array("77\r\n".utf8) + Self.reading.bytes
        let result = decode(stream, as: .text, pieces: [limit])
        #expect(result.events == [.rejected(.tooLong), .message(r)])
        #expect(result.noiseBytes == 0)
    }

    @Test("an overlong line is rejected once, and the next line decodes, however the bytes arrive",
          arguments: [[], [1], [7, 100, 3], [64, 64, 64], [4096]])
    func overlong(pieces: [Int]) {
        let long = [UInt8(ascii: "$")] + Array(repeating: UInt8(ascii: "7"), count: 10_000) + Array("\r\n".utf8)
        let stream = long + Array("noise".utf8) + Self.reading.bytes
        let result = decode(stream, as: .text, pieces: Array(repeating: pieces, count: stream.count).flatMap { $0 })
        #expect(result.events == [.rejected(.tooLong), .message(r)])
        #expect(result.noiseBytes == 5)
    }

    @Test("a $ inside an overlong line starts the next line")
    func overlongThenDollar() {
        let long = [UInt8(ascii: "$")] + Array(repeating: UInt8(ascii: "R"), count: 300)
        let result = decode(long + Self.reading.bytes, as: .text, pieces: [50, 50, 50])
        #expect(result.events == [.rejected(.tooLong), .message(r)])
        #expect(result.noiseBytes == 0)
    }

    @Test("finishing the stream rejects an unfinished line; the next stream starts clean")
    func finishRejectsPartialLine() {
        var decoder = TextFrameDecoder()
        var sink = CollectingSink()
        Array(Self.reading.bytes.prefix(20)).withUnsafeBytes { decoder.feed($0, into: &sink) }
        #expect(sink.events.isEmpty)
        decoder.finish(into: &sink)
        Self.reading.bytes.suffix(from: 20).withUnsafeBytes { decoder.feed($0, into: &sink) }
        Self.reading.bytes.withUnsafeBytes { decoder.feed($0, into: &sink) }
        #expect(sink.events == [.rejected(.malformed), .message(r)])
        #expect(decoder.noiseBytes == UInt64(Self.reading.bytes.count - 20))
    }

    @Test("finishing between lines reports nothing")
    func finishBetweenLines() {
        #expect(decode(Self.reading.bytes + Array("xx".utf8), as: .text, finish: true).events == [.message(r)])
    }
}
